namespace QkChat.Core.Accounts;

/// <summary>A user as the account rules need it.</summary>
public sealed record UserRecord(uint UserId, string Username, string Email, string PasswordHash);

public enum CreateUserOutcome
{
    Created,
    UsernameTaken,
    EmailTaken,
}

/// <summary>Users in MariaDB. Usernames and e-mails compare ignoring case (the column collation does it).</summary>
public interface IUserStore
{
    Task<UserRecord?> FindByUsernameOrEmailAsync(string login, CancellationToken ct);

    Task<UserRecord?> FindByEmailAsync(string email, CancellationToken ct);

    Task<UserRecord?> FindByIdAsync(uint userId, CancellationToken ct);

    /// <summary>Creates the user with a fresh random 9-digit id (retried on collision).</summary>
    Task<(CreateUserOutcome Outcome, UserRecord? User)> CreateAsync(string username, string email, string passwordHash, CancellationToken ct);

    Task UpdatePasswordHashAsync(uint userId, string passwordHash, CancellationToken ct);
}

/// <summary>A device session: the opaque token is returned once and only its hash is stored.</summary>
public sealed record DeviceSession(uint UserId, string ClientId, string Token, long ExpiresAt);

/// <summary>A session found by its token, with what the login answer shows of its user (a resume reads no user row).</summary>
public sealed record ResumedSession(uint UserId, string ClientId, long ExpiresAt, string Username, string Email);

/// <summary>
/// A device with a live token, as get_sessions shows it. <paramref name="LastActiveAt"/> and <paramref name="LastIp"/>
/// are those of the last login, or of the last resume that rewrote the stored expiry (so at most a day old).
/// </summary>
public sealed record DeviceSessionInfo(string ClientId, string? Device, string? LastIp, long LastActiveAt);

/// <summary>Per-device token sessions: MariaDB is the source of truth, a cache (Redis) keeps resumes cheap.</summary>
public interface ISessionStore
{
    /// <summary>Issues a new token for (user, client_id), replacing that device's previous token.</summary>
    Task<DeviceSession> CreateAsync(UserRecord user, string clientId, string? device, string ip, CancellationToken ct);

    /// <summary>The live, unexpired session of <paramref name="token"/> for <paramref name="clientId"/>, sliding its expiry; null when invalid.</summary>
    Task<ResumedSession?> ResumeAsync(string token, string clientId, string ip, CancellationToken ct);

    Task RevokeAsync(uint userId, string clientId, CancellationToken ct);

    /// <summary>The user's devices whose token is neither revoked nor expired, most recently active first.</summary>
    Task<IReadOnlyList<DeviceSessionInfo>> ListAsync(uint userId, CancellationToken ct);

    /// <summary>Revokes every token of the user except <paramref name="exceptClientId"/>; returns the revoked client ids.</summary>
    Task<IReadOnlyList<string>> RevokeAllAsync(uint userId, string? exceptClientId, CancellationToken ct);
}

public enum CodeIssueOutcome
{
    Issued,
    RateLimited,
}

public sealed record CodeIssue(CodeIssueOutcome Outcome, string? Code, int ExpiresInSeconds, int ResendAfterSeconds, int RetryAfterMs);

public enum CodeCheckOutcome
{
    Valid,
    Invalid,
    Expired,

    /// <summary>Too many wrong tries: the code is void, a new one is needed.</summary>
    Voided,

    /// <summary>A wrong code that was the last allowed try: answered as wrong, and the code became void just now (audited once).</summary>
    VoidedNow,
}

/// <summary>Verification codes with TTL, cooldown, hourly caps and an attempt counter (Redis).</summary>
public interface IVerificationCodes
{
    /// <param name="addressKey">The client's limit key (Session.LimitKey), for the per-address hourly cap.</param>
    Task<CodeIssue> IssueAsync(string normalizedEmail, CodePurpose purpose, string addressKey, CancellationToken ct);

    /// <summary>
    /// Checks <paramref name="code"/>; a wrong one counts as a try. A valid code is consumed (one use) unless
    /// <paramref name="consume"/> is false: then it stays until <see cref="ConsumeAsync"/> but the look counts as a
    /// try too (register keeps it while it asks whether the name is free, so a taken name does not cost the user
    /// their code, and one code answers at most MaxTries such questions).
    /// </summary>
    Task<CodeCheckOutcome> CheckAsync(string normalizedEmail, CodePurpose purpose, string code, CancellationToken ct, bool consume = true);

    /// <summary>Uses up the address's code of this purpose (after a check with consume: false succeeded).</summary>
    Task ConsumeAsync(string normalizedEmail, CodePurpose purpose, CancellationToken ct);
}
