using MimeKit;

namespace QkChat.Server.Mail;

/// <summary>
/// How mail leaves the server (smtp.*, mail.drop_dir): through an SMTP relay when <see cref="Host"/> is set, as .eml
/// files in <see cref="DropDir"/> otherwise. The option registry binds these properties; their initializers are the
/// defaults (no relay: a fresh install writes mails to disk, where `make run` and the tests read the codes).
/// </summary>
public sealed class MailTransportOptions
{
    public string Host { get; set; } = "";

    /// <summary>587: the submission port (RFC 6409), with STARTTLS.</summary>
    public int Port { get; set; } = 587;

    public string User { get; set; } = "";

    /// <summary>Empty by default: a secret is never given a default.</summary>
    public string Password { get; set; } = "";

    /// <summary>A placeholder domain: a real relay needs an address it lets us send as (docs/mail.md).</summary>
    public string From { get; set; } = "QkChat <no-reply@qkchat.local>";

    public bool StartTls { get; set; } = true;
    public bool ImplicitTls { get; set; }
    public string DropDir { get; set; } = ".run/mail";

    /// <summary>smtp.from as a mailbox, or null when it is not one (ConfigLoader rejects the configuration then).</summary>
    public static MailboxAddress? ParseFrom(string from) =>
        MailboxAddress.TryParse(from, out var mailbox) && mailbox.Domain.Length > 0 ? mailbox : null;
}
