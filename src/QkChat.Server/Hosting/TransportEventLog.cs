using System.Net;
using Microsoft.Extensions.Logging;
using QkChat.Transport;
using ZLogger;

namespace QkChat.Server.Hosting;

/// <summary>Turns the transport's events into log lines.</summary>
internal sealed partial class TransportEventLog(ILogger logger) : ITransportEvents
{
    // Refusals can come in floods (a client retrying in a loop): log the first of every 1,000 only.
    private long _rejected;

    public void Listening(EndPoint endPoint, bool tls) => LogListening(logger, tls ? "TLS" : "TCP", endPoint.ToString()!);

    public void Rejected(IPAddress remote, RejectReason reason)
    {
        long n = Interlocked.Increment(ref _rejected);
        if (n % 1000 == 1) LogRejected(logger, remote.ToString(), reason, n);
    }

    public void Fault(Connection? connection, Exception exception) =>
        LogFault(logger, connection?.ToString() ?? "-", exception);

    public void AcceptFailed(Exception exception) => LogAcceptFailed(logger, exception.Message);

    // The address string is made only when Information is on: a scan of bad handshakes allocates nothing for logging
    // (ZLogger would serialize an IPAddress argument through reflection-based JSON, which AOT forbids).
    public void TlsHandshakeFailed(IPAddress remote, string reason)
    {
        if (logger.IsEnabled(LogLevel.Information)) LogTlsFailed(logger, remote.ToString(), reason);
    }

    [ZLoggerMessage(LogLevel.Information, "listening ({kind}) on {endPoint}")]
    private static partial void LogListening(ILogger logger, string kind, string endPoint);

    [ZLoggerMessage(LogLevel.Warning, "refused a connection from {remote}: {reason} ({count} refused so far)")]
    private static partial void LogRejected(ILogger logger, string remote, RejectReason reason, long count);

    [ZLoggerMessage(LogLevel.Error, "handler fault on connection {connection}; it was closed")]
    private static partial void LogFault(ILogger logger, string connection, Exception exception);

    [ZLoggerMessage(LogLevel.Error, "accept failed: {error}")]
    private static partial void LogAcceptFailed(ILogger logger, string error);

    [ZLoggerMessage(LogLevel.Information, "TLS handshake from {remote} failed: {reason}")]
    private static partial void LogTlsFailed(ILogger logger, string remote, string reason);
}
