using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace QkChat.Server.Mail;

/// <summary>
/// Decides whether a failed attempt is worth retrying, and describes it for the log without the recipient's local
/// part (relays quote the full address in their replies) and without the message, so no code reaches a log.
/// </summary>
internal static class MailFailure
{
    /// <summary>True for failures that a later attempt can cure: the network, timeouts, 4xx replies.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        // RFC 5321 §4.2.1: 4yz is "transient negative completion", 5yz permanent.
        SmtpCommandException c => (int)c.StatusCode is >= 400 and < 500,
        // A bad password, a certificate we refuse or a relay without STARTTLS is configuration: retrying only repeats it.
        AuthenticationException or SslHandshakeException or NotSupportedException or InvalidRecipientException => false,
        UnauthorizedAccessException => false,
        SmtpProtocolException or ServiceNotConnectedException or SocketException or IOException or TimeoutException => true,
        OperationCanceledException => true,
        _ => false,
    };

    /// <summary>A short reason for the log: the error's kind and text, with the recipient's address masked.</summary>
    public static string Describe(Exception e, string recipient)
    {
        string text = e switch
        {
            SmtpCommandException c => $"relay answered {(int)c.StatusCode} ({c.ErrorCode}): {c.Message}",
            AuthenticationException => "the relay rejected smtp.user/smtp.password: " + e.Message,
            SslHandshakeException => "TLS handshake with the relay failed (check smtp.port, smtp.starttls, smtp.implicit_tls and the relay's certificate): " + FirstLine(e.Message),
            NotSupportedException => "the relay does not offer what is required (STARTTLS or authentication): " + e.Message,
            TimeoutException or OperationCanceledException => "no answer within mail.timeout_s",
            SocketException s => $"{s.SocketErrorCode}: {s.Message}",
            _ => e.GetType().Name + ": " + e.Message,
        };
        text = Redact(FirstLine(text), recipient);
        // Relay replies can be long; a log line should stay one screen line or two.
        return text.Length <= 300 ? text : text[..300] + "...";
    }

    /// <summary>The recipient's address replaced by ***@domain wherever it appears.</summary>
    public static string Redact(string text, string recipient)
    {
        if (recipient.Length == 0) return text;
        return text.Replace(recipient, "***@" + DomainOf(recipient), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The part after the last '@', which is all the log may name of a recipient.</summary>
    public static string DomainOf(string address)
    {
        int at = address.LastIndexOf('@');
        return at >= 0 && at < address.Length - 1 ? address[(at + 1)..].Trim().TrimEnd('>') : "(unknown)";
    }

    public static string Domain(MimeMessage message) =>
        message.To.Mailboxes.FirstOrDefault() is { } to ? DomainOf(to.Address) : "(unknown)";

    private static string FirstLine(string text)
    {
        int nl = text.AsSpan().IndexOfAny('\r', '\n');
        return nl < 0 ? text : text[..nl];
    }
}
