namespace QkChat.Core.Accounts;

/// <summary>What a verification code is for (protocol.md §5 send_verification_code `type`).</summary>
public enum CodePurpose
{
    Register,
    ResetPassword,
}

/// <summary>A verification-code mail to send. The code never appears in logs.</summary>
public sealed record VerificationMail(string To, string Code, CodePurpose Purpose, TimeSpan ValidFor);

/// <summary>
/// Sends mail in the background (never on a reactor). The port Core owns; the server implements it with MailKit,
/// or with .eml files when no SMTP relay is configured.
/// </summary>
public interface IMailer
{
    /// <summary>Queues the mail; false when the bounded queue is full (the caller answers SERVER_BUSY).</summary>
    bool TryEnqueue(VerificationMail mail);
}
