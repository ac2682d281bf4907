using System.Net.Sockets;
using MySqlConnector;
using QkChat.Core;
using StackExchange.Redis;

namespace QkChat.Server.Storage;

/// <summary>
/// Turns driver failures into Core's BackendUnavailableException, so a request answers UNAVAILABLE. A deadlock rolls
/// its transaction back, and the writes guarded here are one transaction or one statement each, so the call is run
/// again (at most <see cref="LockRetries"/> times, after a short random pause) before it counts as a failure.
/// </summary>
internal static class BackendErrors
{
    // InnoDB picks a victim and the others proceed: a second or third try almost always passes.
    private const int LockRetries = 3;

    /// <param name="deadlockRetried">Told each time a deadlock is retried (a counter for tests and metrics).</param>
    public static async Task<T> Guard<T>(string backend, Func<Task<T>> call, Action? deadlockRetried = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (MySqlException e) when (attempt <= LockRetries
                                           && e.ErrorCode == MySqlErrorCode.LockDeadlock)
            {
                deadlockRetried?.Invoke();
                await Task.Delay(Random.Shared.Next(1, 10 * attempt));
            }
            catch (Exception e) when (e is MySqlException or RedisException or SocketException or TimeoutException or IOException
                                      or InvalidOperationException { Source: "MySqlConnector" })
            {
                if (IsPoolExhausted(e)) throw new BackendBusyException($"{backend}: {e.Message}", e);
                throw new BackendUnavailableException($"{backend}: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// MySqlConnector (2.6) reports a pool wait that ran out as UnableToConnectToHost like a refused connection, and
    /// tells them apart only in the message; an overloaded server must answer SERVER_BUSY, not "backend down".
    /// </summary>
    internal static bool IsPoolExhausted(Exception e) =>
        e is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } m
        && m.Message.Contains("All pooled connections are in use", StringComparison.Ordinal);

    public static Task Guard(string backend, Func<Task> call) => Guard(backend, async () => { await call(); return true; });
}
