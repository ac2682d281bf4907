using System.Net;
using Microsoft.Extensions.Logging;
using QkChat.Server.Configuration;
using QkChat.Transport;
using ZLogger;

namespace QkChat.Server.Hosting;

// Start-up warnings about settings that run but are probably not what the operator meant (issue 16).
public static partial class ServerHost
{
    /// <summary>A misspelled QKCHAT_* variable leaves its setting at the default: say so, with the likeliest intended name.</summary>
    private static void WarnOnUnknownVariables(ILogger logger)
    {
        foreach (var variable in UnknownSettings.InEnvironment(Environment.GetEnvironmentVariables()))
            LogUnknownVariable(logger, variable.Message);
    }

    /// <summary>
    /// With TLS on, plain TCP reachable from other hosts lets a client log in without TLS (passwords and tokens in
    /// clear), which is rarely what enabling TLS meant. Loopback plain TCP (a local proxy, the tools) is fine.
    /// </summary>
    private static void WarnOnPlainBesideTls(ServerOptions options, ILogger logger)
    {
        if (options.Listener.TlsEnabled && options.Transport.PlainListener && !IPAddress.IsLoopback(IPAddress.Parse(options.Listener.Host)))
            LogPlainBesideTls(logger, options.Listener.Host, options.Transport.Port);
    }

    /// <summary>"127.0.0.1:8080 (TCP), 127.0.0.1:8443 (TLS)": the listeners that are bound, for the ready line.</summary>
    private static string Listeners(TransportEngine engine)
    {
        var parts = new List<string>(2);
        if (engine.LocalEndPoint is { } plain) parts.Add(plain + " (TCP)");
        if (engine.TlsEndPoint is { } tls) parts.Add(tls + " (TLS)");
        return string.Join(", ", parts);
    }

    [ZLoggerMessage(LogLevel.Warning, "{message}")]
    private static partial void LogUnknownVariable(ILogger logger, string message);

    [ZLoggerMessage(LogLevel.Warning, "plain TCP listener on {host}:{port} is reachable from other hosts while TLS is on: clients that use it send passwords and tokens in clear; set server.plain_tcp=false to serve TLS only, or bind server.host to 127.0.0.1")]
    private static partial void LogPlainBesideTls(ILogger logger, string host, int port);
}
