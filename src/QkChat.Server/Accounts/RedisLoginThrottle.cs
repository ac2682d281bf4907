using QkChat.Core.Accounts;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// Failed-password budgets in Redis over a 15-minute window, per account (by user id) and per client address (its
/// limit key: IPv4 address or IPv6 prefix). The per-account limit slows guessing at one account from many
/// addresses; it expires by itself so it cannot lock a user out for long (the price of being hard to brute force).
/// An attempt is reserved by one script before the password is hashed: check both counters and take from both, or
/// from neither, atomically, so 80 guesses sent at once evaluate at most the limit (issue 16).
/// </summary>
public sealed class RedisLoginThrottle(IConnectionMultiplexer redis, LoginLimits? limits = null) : ILoginThrottle
{
    public const int WindowSeconds = 900;

    private readonly LoginLimits _limits = limits ?? new LoginLimits();

    // Returns {reserved, retry_after_ms, trip}: trip 1 = this attempt reached the account limit, 2 = the address limit.
    private const string ReserveScript = """
        local a = tonumber(redis.call('GET', KEYS[1]) or '0')
        if a >= tonumber(ARGV[2]) then return {0, redis.call('PTTL', KEYS[1]), 0} end
        local i = tonumber(redis.call('GET', KEYS[2]) or '0')
        if i >= tonumber(ARGV[3]) then return {0, redis.call('PTTL', KEYS[2]), 0} end
        a = redis.call('INCR', KEYS[1])
        if a == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        i = redis.call('INCR', KEYS[2])
        if i == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
        local trip = 0
        if a == tonumber(ARGV[2]) then trip = 1 elseif i == tonumber(ARGV[3]) then trip = 2 end
        return {1, 0, trip}
        """;

    // ARGV[1] = 1: the password was right, the account's failures are forgotten; 0: only this attempt is returned.
    // Never below zero: a window that expired meanwhile took the reservation with it.
    private const string ReleaseScript = """
        if ARGV[1] == '1' then redis.call('DEL', KEYS[1])
        elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
        if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
        return 1
        """;

    // One hash tag for every counter: the reserve and release scripts touch an account's and an address's counter
    // at once, and a Redis Cluster runs a script only when all its keys share a slot. Any (account, address) pair can
    // meet, so the only tag they can share is a constant: all failed-login counters live on one slot. That costs
    // nothing real: attempts are bounded by password hashing (hundreds per second per node), far below one shard.
    public static RedisKey AccountKey(string accountKey) => "qk:{lf}:acct:" + accountKey;

    public static RedisKey AddressKey(string addressKey) => "qk:{lf}:ip:" + addressKey;

    public Task<LoginReservation> ReserveAsync(string accountKey, string addressKey, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(ReserveScript,
                [AccountKey(accountKey), AddressKey(addressKey)], [WindowSeconds, _limits.PerAccount, _limits.PerIp]))!;
            if ((long)result[0] == 0) return new LoginReservation(Remaining((long)result[1]), LoginLimitTrip.None);
            return new LoginReservation(0, (long)result[2] switch
            {
                1 => LoginLimitTrip.Account,
                2 => LoginLimitTrip.Ip,
                _ => LoginLimitTrip.None,
            });
        });

    public Task ReleaseAsync(string accountKey, string addressKey, bool passwordProved, CancellationToken ct) =>
        BackendErrors.Guard("Redis", () => redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript,
            [AccountKey(accountKey), AddressKey(addressKey)], [passwordProved ? 1 : 0]));

    // PTTL is -1 for a key without expiry (never written so) and -2 for one that just expired: wait a moment, not 0.
    private static int Remaining(long pttlMs) => pttlMs > 0 ? (int)Math.Min(pttlMs, WindowSeconds * 1000L) : 1;
}

/// <summary>
/// The failed-login limits, changeable by a SIGHUP reload (volatile: the reload thread writes, request threads read).
/// The defaults written here are the server's defaults: the option registry binds account.login_failures_* to them.
/// </summary>
public sealed class LoginLimits
{
    private volatile int _perAccount = 10, _perIp = 50;

    /// <summary>Wrong passwords per account per window: far above honest typos.</summary>
    public int PerAccount { get => _perAccount; set => _perAccount = value; }

    /// <summary>Wrong passwords per client address per window: room for a household or office behind one NAT.</summary>
    public int PerIp { get => _perIp; set => _perIp = value; }

    /// <summary>The throttle's own copy: a reload changes it, not the configuration it came from.</summary>
    public LoginLimits Copy() => (LoginLimits)MemberwiseClone();
}
