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

    Task RecordFailureAsync(string normalizedLogin, string ip, CancellationToken ct);

    Task ResetAsync(string normalizedLogin, CancellationToken ct);
}
