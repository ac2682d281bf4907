using Microsoft.Extensions.Logging;
using QkChat.Protocol;

namespace QkChat.Core.Dispatch;

/// <summary>
/// Runs a request's work off the reactor (database, Redis, hashing) and answers it exactly once whatever happens:
/// a backend failure answers UNAVAILABLE (nothing was done), a backend this server could not get a turn at in time
/// SERVER_BUSY with a retry hint, anything else INTERNAL, each with a log line.
/// </summary>
public static partial class OffReactor
{
    public static void Run(RequestContext ctx, ILogger logger, Func<PendingResponse, Task> work) =>
        Run(ctx.BeginAsync(), logger, work);

    public static void Run(PendingResponse pending, ILogger logger, Func<PendingResponse, Task> work) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await work(pending);
            }
            catch (BackendBusyException e)
            {
                LogBackendBusy(logger, e.Message);
                pending.Complete(ErrorCodes.ServerBusy, "the server is busy; nothing was done, retry shortly", BackendBusyException.RetryAfterMs,
                    static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
            }
            catch (BackendUnavailableException e)
            {
                LogBackendDown(logger, e.Message);
                pending.Complete(ErrorCodes.Unavailable, "a backend is unavailable; nothing was done, retry later");
            }
            catch (Exception e)
            {
                LogInternal(logger, e);
                pending.Complete(ErrorCodes.Internal, "internal error");
            }
        });

    [LoggerMessage(Level = LogLevel.Error, Message = "backend unavailable: {Error}")]
    private static partial void LogBackendDown(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "backend busy, answered SERVER_BUSY: {Error}")]
    private static partial void LogBackendBusy(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "request failed")]
    private static partial void LogInternal(ILogger logger, Exception error);
}
