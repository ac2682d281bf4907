using QkChat.Server.Storage;
using System.Security.Cryptography;
using QkChat.Core.Accounts;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// Verification codes in Redis, each operation one atomic Lua script (ScriptEvaluateAsync with explicit keys: the
/// form that works under Native AOT). Limits count per (address ignoring case, purpose) as protocol.md §8 says.
/// </summary>
public sealed class RedisVerificationCodes(IConnectionMultiplexer redis, AccountOptions options) : IVerificationCodes
{
    /// <summary>protocol.md §5: one code per 60 s per address.</summary>
    public const int CooldownSeconds = 60;

    /// <summary>Codes per address and purpose per hour: a person needs two or three; 5 leaves room for typos.</summary>
    public const int HourlyPerAddress = 5;

    /// <summary>Codes per client address per hour, any purpose: a NAT of a few users, not a mail cannon.</summary>
    public const int HourlyPerIp = 20;

    /// <summary>protocol.md §5: at most 5 wrong tries, then the code is void.</summary>
    public const int MaxTries = 5;

    /// <summary>How long "a code was sent here" is remembered to tell CODE_EXPIRED from a code never sent.</summary>
    private const int IssuedMemorySeconds = 3600;

    private const string IssueScript = """
        local cd = redis.call('PTTL', KEYS[3])
        if cd > 0 then return {0, cd} end
        local a = tonumber(redis.call('GET', KEYS[4]) or '0')
        if a >= tonumber(ARGV[4]) then return {0, redis.call('PTTL', KEYS[4])} end
        local i = tonumber(redis.call('GET', KEYS[5]) or '0')
        if i >= tonumber(ARGV[5]) then return {0, redis.call('PTTL', KEYS[5])} end
        if redis.call('INCR', KEYS[4]) == 1 then redis.call('EXPIRE', KEYS[4], 3600) end
        if redis.call('INCR', KEYS[5]) == 1 then redis.call('EXPIRE', KEYS[5], 3600) end
        redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
        redis.call('DEL', KEYS[1], KEYS[6])
        redis.call('HSET', KEYS[1], 'code', ARGV[1], 'tries', 0)
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        redis.call('SET', KEYS[2], '1', 'EX', ARGV[6])
        return {1, 0}
        """;

    private const string CheckScript = """
        if redis.call('EXISTS', KEYS[3]) == 1 then return 'voided' end
        local stored = redis.call('HGET', KEYS[1], 'code')
        if not stored then
          if redis.call('EXISTS', KEYS[2]) == 1 then return 'expired' end
          return 'invalid'
        end
        if stored == ARGV[1] then
          if ARGV[4] == '1' then
            redis.call('DEL', KEYS[1], KEYS[2])
            return 'valid'
          end
          -- Kept for a later ConsumeAsync, but each look counts as a try: a register answered ALREADY_EXISTS must
          -- not turn one code into unlimited "is this name taken" questions.
          if redis.call('HINCRBY', KEYS[1], 'tries', 1) > tonumber(ARGV[2]) then
            redis.call('DEL', KEYS[1])
            redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
            return 'voided'
          end
          return 'valid'
        end
        if redis.call('HINCRBY', KEYS[1], 'tries', 1) >= tonumber(ARGV[2]) then
          redis.call('DEL', KEYS[1])
          redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
          return 'voided_now'
        end
        return 'invalid'
        """;

    // One hash tag for all code keys: the issue script touches an address's keys and the client's hourly counter at
    // once, which a Redis Cluster allows only within one slot, and any address can meet any client. Codes are bounded
    // by the mail rate (a few per second), so one slot carries them easily.
    private static RedisKey Key(string part, CodePurpose purpose, string email) => $"qk:{{vc}}:{part}:{purpose}:{email}";

    /// <summary>The per-client-address hourly code counter.</summary>
    public static RedisKey AddressHourKey(string addressKey) => $"qk:{{vc}}:hour-ip:{addressKey}";

    public Task<CodeIssue> IssueAsync(string normalizedEmail, CodePurpose purpose, string addressKey, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            string code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6");
            int validFor = (int)options.CodeValidity.TotalSeconds;
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(IssueScript,
                [Key("code", purpose, normalizedEmail), Key("issued", purpose, normalizedEmail), Key("cooldown", purpose, normalizedEmail),
                 Key("hour", purpose, normalizedEmail), AddressHourKey(addressKey), Key("void", purpose, normalizedEmail)],
                [code, validFor, CooldownSeconds, HourlyPerAddress, HourlyPerIp, IssuedMemorySeconds]))!;
            return (int)result[0] == 1
                ? new CodeIssue(CodeIssueOutcome.Issued, code, validFor, CooldownSeconds, 0)
                : new CodeIssue(CodeIssueOutcome.RateLimited, null, 0, 0, Math.Max(1, (int)(long)result[1]));
        });

    public Task<CodeCheckOutcome> CheckAsync(string normalizedEmail, CodePurpose purpose, string code, CancellationToken ct, bool consume = true) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var result = await redis.GetDatabase().ScriptEvaluateAsync(CheckScript,
                [Key("code", purpose, normalizedEmail), Key("issued", purpose, normalizedEmail), Key("void", purpose, normalizedEmail)],
                [code, MaxTries, IssuedMemorySeconds, consume ? 1 : 0]);
            return (string?)result switch
            {
                "valid" => CodeCheckOutcome.Valid,
                "expired" => CodeCheckOutcome.Expired,
                "voided" => CodeCheckOutcome.Voided,
                "voided_now" => CodeCheckOutcome.VoidedNow,
                _ => CodeCheckOutcome.Invalid,
            };
        });

    public Task ConsumeAsync(string normalizedEmail, CodePurpose purpose, CancellationToken ct) =>
        BackendErrors.Guard("Redis", () => redis.GetDatabase().KeyDeleteAsync(
            [Key("code", purpose, normalizedEmail), Key("issued", purpose, normalizedEmail)]));
}
