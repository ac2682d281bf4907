using QkChat.Core.Accounts;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// Failed-login counters in Redis over a 15-minute window, per account and per client address. The per-account
/// limit slows guessing at one account from many addresses; it expires by itself so it cannot lock a user out for
/// long (the price of being hard to brute force).
/// </summary>
public sealed class RedisLoginThrottle(IConnectionMultiplexer redis) : ILoginThrottle
{
    public const int WindowSeconds = 900;

    /// <summary>Wrong passwords per account per window: far above honest typos.</summary>
    public const int PerAccount = 10;

    /// <summary>Wrong passwords per client address per window: room for a household or office behind one NAT.</summary>
    public const int PerIp = 50;

    private const string RecordScript = """
        if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
        return 1
        """;

    private static RedisKey AccountKey(string login) => "qk:lf:acct:" + login;

    private static RedisKey IpKey(string ip) => "qk:lf:ip:" + ip;

    public Task<int> RetryAfterMsAsync(string normalizedLogin, string ip, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = redis.GetDatabase();
            var counts = await db.StringGetAsync([AccountKey(normalizedLogin), IpKey(ip)]);
            if ((long?)counts[0] >= PerAccount) return Remaining(await db.KeyTimeToLiveAsync(AccountKey(normalizedLogin)));
            if ((long?)counts[1] >= PerIp) return Remaining(await db.KeyTimeToLiveAsync(IpKey(ip)));
            return 0;
        });

    public Task RecordFailureAsync(string normalizedLogin, string ip, CancellationToken ct) =>
        BackendErrors.Guard("Redis", () => redis.GetDatabase().ScriptEvaluateAsync(RecordScript,
            [AccountKey(normalizedLogin), IpKey(ip)], [WindowSeconds]));

    public Task ResetAsync(string normalizedLogin, CancellationToken ct) =>
        BackendErrors.Guard("Redis", () => redis.GetDatabase().KeyDeleteAsync(AccountKey(normalizedLogin)));

    private static int Remaining(TimeSpan? ttl) => Math.Max(1, (int)(ttl ?? TimeSpan.FromSeconds(WindowSeconds)).TotalMilliseconds);
}
