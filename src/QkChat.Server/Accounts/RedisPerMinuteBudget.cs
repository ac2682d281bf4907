using QkChat.Core.Accounts;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// The check_username/check_email budget per client address: a fixed one-minute window in Redis (INCR, EXPIRE on
/// the first), shared by every node, so reconnecting or switching nodes does not reset it.
/// </summary>
public sealed class RedisAvailabilityThrottle(IConnectionMultiplexer redis) : IAvailabilityThrottle
{
    private const int WindowSeconds = 60;

    // Returns the count after this check and the window's remaining milliseconds, in one round trip.
    private const string TakeScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        return {n, redis.call('PTTL', KEYS[1])}
        """;

    public Task<int> TakeAsync(string ip, int perMinute, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(TakeScript, ["qk:avail:ip:" + ip], [WindowSeconds]))!;
            long count = (long)result[0], ttlMs = (long)result[1];
            if (count <= perMinute) return 0;
            return (int)Math.Clamp(ttlMs, 1, WindowSeconds * 1000);
        });
}
