using System.Globalization;
using System.Reflection;

namespace QkChat.Cli;

/// <summary>A command line that cannot be used; the message says why.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>qkchat's own command line (the chat commands come later, on stdin). Pure: the environment is passed in.</summary>
internal sealed record CliArguments(string Host, int Port, bool Tls, bool Insecure, bool Help = false, bool Version = false)
{
    /// <summary>A ws:// or wss:// address of the server's WebSocket gateway (docs/web.md); null: plain TCP to Host:Port.</summary>
    public Uri? WebSocketUrl { get; init; }

    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = 8080;
    public const int DefaultTlsPort = 8443;

    public static string Usage =>
        """
        usage: qkchat [--host H] [--port P] [--tls] [--insecure]
               qkchat [--insecure] ws://HOST:PORT/ws | wss://HOST:PORT/ws
               qkchat --help | --version

        An interactive chat client for a QkChat server. Type /help at its prompt for the commands. Commands may
        also be piped on stdin, one per line: each runs to its answer before the next, and the exit code is 1 if
        any of them failed.

          --host H     server address (default $QKCHAT_HOST, else 127.0.0.1)
          --port P     server port (default $QKCHAT_PORT, else 8080, or 8443 with --tls)
          --tls        speak TLS
          --insecure   with --tls or wss://: accept any server certificate (self-signed test servers only)
          ws://... or wss://... (also --url U, or $QKCHAT_URL)
                       connect through the server's WebSocket gateway (its web listener, default
                       ws://127.0.0.1:8081/ws) instead of the chat port; wss:// speaks TLS
          --help       this text
          --version    the version

        """;

    public static string VersionText =>
        "qkchat " + (typeof(CliArguments).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0");

    /// <exception cref="UsageException">An unknown option, a missing value, or a bad port.</exception>
    public static CliArguments Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        string? host = null, port = null, url = null;
        bool tls = false, insecure = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is > 2 and var eq)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            switch (arg)
            {
                case "-h" or "--help":
                    return new CliArguments(DefaultHost, DefaultPort, false, false, Help: true);
                case "-V" or "--version":
                    return new CliArguments(DefaultHost, DefaultPort, false, false, Version: true);
                case "--host":
                    host = inline ?? Value(args, ref i, arg);
                    break;
                case "--port":
                    port = inline ?? Value(args, ref i, arg);
                    break;
                case "--tls":
                    tls = true;
                    break;
                case "--insecure":
                    insecure = true;
                    break;
                case "--url":
                    url = inline ?? Value(args, ref i, arg);
                    break;
                case var positional when url is null && (positional.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) ||
                                                         positional.StartsWith("wss://", StringComparison.OrdinalIgnoreCase)):
                    url = positional;
                    break;
                default:
                    throw new UsageException($"unknown argument '{args[i]}'");
            }
        }
        url ??= host is null && port is null && !tls && environment("QKCHAT_URL") is { Length: > 0 } u ? u : null;
        if (url is not null) return ParseWebSocket(url, host, port, tls, insecure);
        if (insecure && !tls) throw new UsageException("--insecure only makes sense with --tls");

        host ??= environment("QKCHAT_HOST") is { Length: > 0 } h ? h : DefaultHost;
        if (host.Length == 0) throw new UsageException("--host needs a name or address");
        port ??= environment("QKCHAT_PORT") is { Length: > 0 } p ? p : null;
        int portNumber = tls ? DefaultTlsPort : DefaultPort;
        if (port is not null &&
            (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
            throw new UsageException($"the port must be a number from 1 to 65535, not '{port}'");
        return new CliArguments(host, portNumber, tls, insecure);
    }

    /// <summary>A gateway address: the URL names host, port and TLS, so --host, --port and --tls would contradict it.</summary>
    private static CliArguments ParseWebSocket(string url, string? host, string? port, bool tls, bool insecure)
    {
        if (host is not null || port is not null || tls)
            throw new UsageException("a ws:// or wss:// address already names the host, the port and TLS: leave out --host, --port and --tls");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss") || uri.Host.Length == 0)
            throw new UsageException($"'{url}' is not a ws:// or wss:// address (for example ws://127.0.0.1:8081/ws)");
        bool secure = uri.Scheme == "wss";
        if (insecure && !secure) throw new UsageException("--insecure only makes sense with --tls or wss://");
        return new CliArguments(uri.Host, uri.Port, secure, insecure) { WebSocketUrl = uri };
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option) =>
        ++i < args.Count ? args[i] : throw new UsageException($"{option} needs a value");
}
