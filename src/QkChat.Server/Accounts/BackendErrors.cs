using System.Net.Sockets;
using MySqlConnector;
using QkChat.Core;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>Turns driver failures into Core's BackendUnavailableException, so a request answers UNAVAILABLE.</summary>
internal static class BackendErrors
{
    public static async Task<T> Guard<T>(string backend, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is MySqlException or RedisException or SocketException or TimeoutException or IOException
                                      or InvalidOperationException { Source: "MySqlConnector" })
        {
            throw new BackendUnavailableException($"{backend}: {e.Message}", e);
        }
    }

    public static Task Guard(string backend, Func<Task> call) => Guard(backend, async () => { await call(); return true; });
}
