using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Core;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Storage;


/// <summary>Opens MariaDB and Redis at start, retrying for startup.retry_s so a backend that starts slower does not fail us.</summary>
public static partial class Backends
{
    /// <param name="maxPoolSize">A pool of its own of this size instead of db.pool_size (the message batchers).</param>
    /// <param name="name">The pool's name in MySqlConnector's metrics (pool_name); without one the driver uses the
    /// whole connection string, which makes every pool metric line hundreds of bytes long.</param>
    public static MySqlDataSource CreateDataSource(DatabaseOptions o, int? maxPoolSize = null, string name = "qkchat") =>
        new MySqlDataSourceBuilder(WithPoolSettings(new MySqlConnectionStringBuilder
        {
            Server = o.Host,
            Port = (uint)o.Port,
            UserID = o.User,
            Password = o.Password,
            Database = o.Name,
            MaximumPoolSize = (uint)(maxPoolSize ?? o.PoolSize),
            // Private stack and most installs run without TLS on loopback; set it up in the connection for remote DBs.
            SslMode = MySqlSslMode.Preferred,
        }).ConnectionString).UseName(name).Build();

    /// <summary>The driver settings every server pool uses (public so outage tests build their pools the same way).</summary>
    public static MySqlConnectionStringBuilder WithPoolSettings(MySqlConnectionStringBuilder builder)
    {
        builder.CharacterSet = "utf8mb4";
        // 5 s to connect: a loopback or LAN database answers in milliseconds; longer hides an outage.
        builder.ConnectionTimeout = 5;
        // No reset when a connection leaves the pool: the reset (COM_RESET_CONNECTION plus SET NAMES) was a round trip
        // per request, a quarter of all statements in a chat run. Nothing we run leaves session state behind that a
        // later user could trip on: every transaction states its isolation level, there are no session variables or
        // temporary tables, and the migrator releases its named lock in a finally block. The price: a pooled
        // connection is not checked before use, so after a database restart each stale idle connection fails one
        // request (UNAVAILABLE, nothing done) before the driver drops it; MySqlConnector cannot clear a data source's
        // pool from outside.
        builder.ConnectionReset = false;
        return builder;
    }

    public static async Task WaitForDatabaseAsync(MySqlDataSource dataSource, DatabaseOptions o, int retrySeconds, ILogger logger, CancellationToken ct)
    {
        await RetryAsync("MariaDB", $"{o.Host}:{o.Port}/{o.Name}", retrySeconds, logger, async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(ct);
        }, ct);
    }

    public static async Task<ConnectionMultiplexer> ConnectRedisAsync(RedisOptions o, int retrySeconds, ILogger logger, CancellationToken ct)
    {
        var config = new ConfigurationOptions
        {
            Password = o.Password.Length == 0 ? null : o.Password,
            DefaultDatabase = o.Database,
            AbortOnConnectFail = true,
            ConnectTimeout = 3000,
            // While Redis is down, fail commands at once (the request answers UNAVAILABLE) instead of queueing them
            // until a timeout; the multiplexer keeps reconnecting in the background. 2 s bounds a slow command.
            BacklogPolicy = BacklogPolicy.FailFast,
            AsyncTimeout = 2000,
            ClientName = "qkchatd",
        };
        AddEndPoints(config, o);
        ConnectionMultiplexer? redis = null;
        await RetryAsync("Redis", $"{o.Host}:{o.Port}", retrySeconds, logger, async () =>
        {
            redis = await ConnectionMultiplexer.ConnectAsync(config);
            await redis.GetDatabase().PingAsync();
        }, ct);
        // After the first connection the multiplexer reconnects on its own; callers see UNAVAILABLE meanwhile.
        return redis!;
    }

    /// <summary>
    /// redis.host is one host or a comma list (a Redis Cluster's seed nodes, docs/cluster.md); an entry without
    /// ":port" uses redis.port. StackExchange.Redis asks the seeds for the cluster's layout and finds every master
    /// itself, so one reachable seed is enough; listing all of them survives a seed that is down at start.
    /// </summary>
    public static void AddEndPoints(ConfigurationOptions config, RedisOptions o)
    {
        foreach (string entry in o.Host.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = entry.LastIndexOf(':');
            // "[::1]:7000" and "host:7000" carry a port; a bare IPv6 address ("::1") has colons but no brackets.
            bool hasPort = colon > 0 && (entry.Count(c => c == ':') == 1 || entry.StartsWith('[')) && int.TryParse(entry[(colon + 1)..], out _);
            if (hasPort) config.EndPoints.Add(entry);
            else config.EndPoints.Add(entry, o.Port);
        }
    }

    private static async Task RetryAsync(string name, string where, int seconds, ILogger logger, Func<Task> attempt, CancellationToken ct)
    {
        long deadline = Environment.TickCount64 + seconds * 1000L;
        int delayMs = 250;
        while (true)
        {
            try
            {
                await attempt();
                LogReachable(logger, name, where);
                return;
            }
            catch (Exception e) when (e is MySqlException or RedisException or System.Net.Sockets.SocketException or TimeoutException)
            {
                if (Environment.TickCount64 >= deadline)
                    throw new BackendUnavailableException($"{name} at {where} is unreachable after {seconds} s: {e.Message}");
                LogRetrying(logger, name, where, e.Message);
                await Task.Delay(delayMs, ct);
                delayMs = Math.Min(delayMs * 2, 2000);
            }
        }
    }

    [ZLoggerMessage(LogLevel.Information, "{name} reachable at {where}")]
    private static partial void LogReachable(ILogger logger, string name, string where);

    [ZLoggerMessage(LogLevel.Warning, "{name} at {where} not reachable yet, retrying: {error}")]
    private static partial void LogRetrying(ILogger logger, string name, string where, string error);
}
