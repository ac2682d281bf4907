using System.Net;
using Microsoft.Extensions.Logging;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

public sealed partial class Dispatcher
{
    // The address goes in as an IPAddress and the length as a number: formatted only when the level is on, so a
    // stream of bad frames allocates nothing for logging at the default level (DisabledLogLevelAllocationTests).
    [LoggerMessage(Level = LogLevel.Information, Message = "connection #{Id} from {Remote}: frame rejected (length {Length}), closing")]
    private static partial void LogFrameRejected(ILogger logger, long id, IPAddress remote, long length);

    [LoggerMessage(Level = LogLevel.Information, Message = "connection #{Id} from {Remote}: {Code} {Detail}")]
    private static partial void LogRequestRejected(ILogger logger, long id, IPAddress remote, string code, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "connection #{Id}: {Kind} timeout, closing")]
    private static partial void LogTimedOut(ILogger logger, long id, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "connection #{Id} from {Remote}: closed as a slow consumer ({Queued} bytes queued)")]
    private static partial void LogSlowConsumer(ILogger logger, long id, IPAddress remote, int queued);

    [LoggerMessage(Level = LogLevel.Debug, Message = "connection #{Id} closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, long id, CloseReason reason);
}
