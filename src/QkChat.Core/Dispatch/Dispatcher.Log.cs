using Microsoft.Extensions.Logging;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

public sealed partial class Dispatcher
{
    [LoggerMessage(Level = LogLevel.Information, Message = "connection #{Id} from {Remote}: frame rejected ({Detail}), closing")]
    private static partial void LogFrameRejected(ILogger logger, long id, string remote, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "connection #{Id} from {Remote}: {Code} {Detail}")]
    private static partial void LogRequestRejected(ILogger logger, long id, string remote, string code, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "connection #{Id}: {Kind} timeout, closing")]
    private static partial void LogTimedOut(ILogger logger, long id, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "connection #{Id} from {Remote}: closed as a slow consumer ({Queued} bytes queued)")]
    private static partial void LogSlowConsumer(ILogger logger, long id, string remote, int queued);

    [LoggerMessage(Level = LogLevel.Debug, Message = "connection #{Id} closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, long id, CloseReason reason);
}
