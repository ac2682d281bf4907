using QkChat.Core.Accounts;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// Failed-login counters in Redis over a 15-minute window, per account and per client address. The per-account
/// limit slows guessing at one account from many addresses; it expires by itself so it cannot lock a user out for
/// long (the price of being hard to brute force).
/// </summary>
public sealed class RedisLoginThrottle(IConnectionMultiplexer redis, LoginLimits? limits = null) : ILoginThrottle
{
    public const int WindowSeconds = 900;

    private readonly LoginLimits _limits = limits ?? new LoginLimits();

    private const string RecordScript = """
        local a = redis.call('INCR', KEYS[1])
        if a == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        local i = redis.call('INCR', KEYS[2])
        if i == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
        return {a, i}
        """;

    private static RedisKey AccountKey(string login) => "qk:lf:acct:" + login;

    private static RedisKey IpKey(string ip) => "qk:lf:ip:" + ip;

    public Task<int> RetryAfterMsAsync(string normalizedLogin, string ip, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = redis.GetDatabase();
            var counts = await db.StringGetAsync([AccountKey(normalizedLogin), IpKey(ip)]);
            if ((long?)counts[0] >= _limits.PerAccount) return Remaining(await db.KeyTimeToLiveAsync(AccountKey(normalizedLogin)));
            if ((long?)counts[1] >= _limits.PerIp) return Remaining(await db.KeyTimeToLiveAsync(IpKey(ip)));
            return 0;
        });

    public Task<LoginLimitTrip> RecordFailureAsync(string normalizedLogin, string ip, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var counts = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(RecordScript,
                [AccountKey(normalizedLogin), IpKey(ip)], [WindowSeconds]))!;
            // Exactly the failure that reaches a limit is the trip; later refusals are the limit working, not news.
            return (long)counts[0] == _limits.PerAccount ? LoginLimitTrip.Account
                : (long)counts[1] == _limits.PerIp ? LoginLimitTrip.Ip
                : LoginLimitTrip.None;
        });

    public Task ResetAsync(string normalizedLogin, CancellationToken ct) =>
        BackendErrors.Guard("Redis", () => redis.GetDatabase().KeyDeleteAsync(AccountKey(normalizedLogin)));

    private static int Remaining(TimeSpan? ttl) => Math.Max(1, (int)(ttl ?? TimeSpan.FromSeconds(WindowSeconds)).TotalMilliseconds);
}

/// <summary>
/// The failed-login limits, changeable by a SIGHUP reload (volatile: the reload thread writes, request threads read).
/// </summary>
public sealed class LoginLimits
{
    private volatile int _perAccount = 10, _perIp = 50;

    /// <summary>Wrong passwords per account per window: far above honest typos.</summary>
    public int PerAccount { get => _perAccount; set => _perAccount = value; }

    /// <summary>Wrong passwords per client address per window: room for a household or office behind one NAT.</summary>
    public int PerIp { get => _perIp; set => _perIp = value; }
}
