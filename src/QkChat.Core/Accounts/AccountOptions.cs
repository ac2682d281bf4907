namespace QkChat.Core.Accounts;

/// <summary>Account rules that are configuration (the server fills them; docs/configuration.md has defaults and risks).</summary>
public sealed class AccountOptions
{
    /// <summary>protocol.md §5: a code is valid 5 minutes.</summary>
    public TimeSpan CodeValidity { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sliding token lifetime: each resume moves the expiry this far ahead.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>Failed-login limits per account and per client address (protocol.md §5 login).</summary>
public interface ILoginThrottle
{
    /// <summary>Milliseconds until another try is allowed, or 0 when allowed now.</summary>
    Task<int> RetryAfterMsAsync(string normalizedLogin, string ip, CancellationToken ct);

    /// <summary>Counts a failure; says which limit this very failure reached, if any (a "trip", audited once).</summary>
    Task<LoginLimitTrip> RecordFailureAsync(string normalizedLogin, string ip, CancellationToken ct);

    Task ResetAsync(string normalizedLogin, CancellationToken ct);
}

/// <summary>Which failed-login limit a failure reached (issue 11: each trip is one `rate_limited` audit event).</summary>
public enum LoginLimitTrip
{
    None,
    Account,
    Ip,
}
