using QkChat.Core.Dispatch;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// A per-minute budget in Redis: a fixed one-minute window per key (INCR, EXPIRE on the first), shared by every
/// node. <paramref name="keyPrefix"/> names the budget ("qk:avail:ip:" for the availability checks per client
/// address, "qk:search:user:" for search_users per user).
/// </summary>
public sealed class RedisPerMinuteBudget(IConnectionMultiplexer redis, string keyPrefix) : IPerMinuteBudget
{
    public const string AvailabilityPrefix = "qk:avail:ip:";

    public const string SearchPrefix = "qk:search:user:";

    private const int WindowSeconds = 60;

    // Returns the count after this use and the window's remaining milliseconds, in one round trip.
    private const string TakeScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        return {n, redis.call('PTTL', KEYS[1])}
        """;

    public Task<int> TakeAsync(string key, int perMinute, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(TakeScript, [keyPrefix + key], [WindowSeconds]))!;
            long count = (long)result[0], ttlMs = (long)result[1];
            if (count <= perMinute) return 0;
            return (int)Math.Clamp(ttlMs, 1, WindowSeconds * 1000);
        });
}
