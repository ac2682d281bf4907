namespace QkChat.Core.Audit;

/// <summary>
/// Security events (issue 11; protocol.md §8 names the ones a user sees through get_security_events). The wire name
/// of each is <see cref="AuditEvents.Name"/>.
/// </summary>
public enum AuditEvent : byte
{
    Login,
    LoginFailed,
    TokenResume,
    Logout,
    Kicked,
    PasswordChanged,
    PasswordReset,
    SessionRevoked,
    CodeSent,
    CodeVoided,
    RateLimited,
    Blocked,
    Unblocked,

    /// <summary>A connection closed as a slow consumer (operators only: not shown to users).</summary>
    SlowConsumer,

    /// <summary>A connection closed for abuse: bad frames, oversize frames (operators only).</summary>
    Abuse,
}

/// <summary>
/// One security event. <paramref name="Detail"/> is a short reason class ("wrong_password", "same_device", "ip"),
/// never a secret, a code or a password.
/// </summary>
public readonly record struct AuditRecord(AuditEvent Event, uint? UserId, string? ClientId, string? Device, string? Ip,
    bool Ok, string? Detail = null);

/// <summary>Where security events go. Never blocks the caller: a full log counts the event as dropped.</summary>
public interface IAuditLog
{
    void Record(in AuditRecord record);
}

/// <summary>No audit log (unit tests, tools).</summary>
public sealed class NullAuditLog : IAuditLog
{
    public static readonly NullAuditLog Instance = new();

    public void Record(in AuditRecord record)
    {
    }
}

public static class AuditEvents
{
    public static string Name(this AuditEvent e) => e switch
    {
        AuditEvent.Login => "login",
        AuditEvent.LoginFailed => "login_failed",
        AuditEvent.TokenResume => "token_resume",
        AuditEvent.Logout => "logout",
        AuditEvent.Kicked => "kicked",
        AuditEvent.PasswordChanged => "password_changed",
        AuditEvent.PasswordReset => "password_reset",
        AuditEvent.SessionRevoked => "session_revoked",
        AuditEvent.CodeSent => "code_sent",
        AuditEvent.CodeVoided => "code_voided",
        AuditEvent.RateLimited => "rate_limited",
        AuditEvent.Blocked => "blocked",
        AuditEvent.Unblocked => "unblocked",
        AuditEvent.SlowConsumer => "slow_consumer",
        _ => "abuse",
    };
}
