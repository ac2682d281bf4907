using System.Globalization;
using System.Net;
using System.Text;
using MimeKit;
using MimeKit.Utils;
using QkChat.Core.Accounts;

namespace QkChat.Server.Mail;

/// <summary>A recipient address that cannot be parsed: no retry can fix it.</summary>
internal sealed class InvalidRecipientException(string message) : Exception(message);

/// <summary>
/// The verification-code mail: multipart/alternative with a plain-text and an HTML part. The HTML uses inline CSS and
/// no images (many clients block remote images and strip &lt;style&gt;), and stays ASCII with short lines so the
/// .eml drop is readable in a terminal. Every variable part is HTML-escaped.
/// </summary>
internal static class MailTemplate
{
    // The code is deliberately not in the subject: subjects show on lock screens and in notification previews, and
    // some gateways log them. Opening the mail is a small price for a code that would let a bystander reset a password.
    public static string Subject(CodePurpose purpose) => purpose switch
    {
        CodePurpose.ResetPassword => "Your QkChat password reset code",
        _ => "Your QkChat verification code",
    };

    public static string Intro(CodePurpose purpose) => purpose switch
    {
        CodePurpose.ResetPassword => "Use this code to reset the password of your QkChat account:",
        _ => "Use this code to finish creating your QkChat account:",
    };

    public static string IfNotYou(CodePurpose purpose) => purpose switch
    {
        CodePurpose.ResetPassword => "If you did not ask for this, ignore this mail: your password stays as it is.",
        _ => "If you did not ask for this, ignore this mail: no account is created without the code.",
    };

    // A healthy queue sends within a second or two of the request; without this slack a 5-minute code would read
    // "4 minutes". Beyond it (a mail delayed by retries) the text rounds down and never promises more than is left.
    private static readonly TimeSpan ExpirySlack = TimeSpan.FromSeconds(10);

    /// <summary>Whole minutes left (see <see cref="ExpirySlack"/>), in words.</summary>
    public static string ExpiryText(TimeSpan remaining)
    {
        long minutes = (long)Math.Floor((remaining + ExpirySlack).TotalMinutes);
        return minutes switch
        {
            < 1 => "less than a minute",
            1 => "1 minute",
            _ => minutes.ToString(CultureInfo.InvariantCulture) + " minutes",
        };
    }

    /// <summary>
    /// The code for the HTML part: a 6-digit code shows as two groups of three, separated by CSS spacing rather than a
    /// space character, so "123 456" reads easily yet copies as "123456". Anything else is shown escaped, as is.
    /// </summary>
    public static string CodeHtml(string code)
    {
        if (code.Length == 6 && code.All(char.IsAsciiDigit))
            return $"<span>{code.AsSpan(0, 3)}</span><span style=\"padding-left:16px;\">{code.AsSpan(3)}</span>";
        return WebUtility.HtmlEncode(code);
    }

    public static string PlainText(VerificationMail mail, TimeSpan remaining)
    {
        var text = new StringBuilder();
        text.Append("QkChat\n\n");
        text.Append(Intro(mail.Purpose)).Append("\n\n");
        // Unspaced on its own line: a double-click or a copy takes exactly the code.
        text.Append("    ").Append(mail.Code).Append("\n\n");
        text.Append("The code expires in ").Append(ExpiryText(remaining)).Append(". Enter it in the QkChat app; never share it with anyone.\n\n");
        text.Append(IfNotYou(mail.Purpose)).Append('\n');
        text.Append("This mail was sent to ").Append(mail.To).Append(".\n");
        return text.ToString();
    }

    public static string Html(VerificationMail mail, TimeSpan remaining)
    {
        string subject = WebUtility.HtmlEncode(Subject(mail.Purpose));
        string expiry = WebUtility.HtmlEncode(ExpiryText(remaining));
        string to = WebUtility.HtmlEncode(mail.To);
        // Table layout and inline styles: the only layout that Outlook, Gmail and Apple Mail all render alike.
        return $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{subject}</title>
            </head>
            <body style="margin:0;padding:0;background-color:#f3f4f6;">
            <div style="display:none;max-height:0;overflow:hidden;">{WebUtility.HtmlEncode(Intro(mail.Purpose))}</div>
            <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
            <tr><td align="center" style="padding:32px 16px;">
            <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
             style="max-width:480px;background-color:#ffffff;border-radius:8px;
             font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2937;">
            <tr><td style="padding:20px 32px;background-color:#2563eb;border-radius:8px 8px 0 0;
             color:#ffffff;font-size:22px;font-weight:bold;letter-spacing:1px;">QkChat</td></tr>
            <tr><td style="padding:32px 32px 8px 32px;font-size:16px;line-height:24px;">{WebUtility.HtmlEncode(Intro(mail.Purpose))}</td></tr>
            <tr><td align="center" style="padding:16px 32px;">
            <div style="display:inline-block;padding:16px 28px;background-color:#eef2ff;border-radius:8px;
             font-family:'SFMono-Regular',Menlo,Consolas,'Liberation Mono',monospace;font-size:36px;
             font-weight:bold;letter-spacing:4px;color:#111827;">{CodeHtml(mail.Code)}</div>
            </td></tr>
            <tr><td style="padding:8px 32px 24px 32px;font-size:16px;line-height:24px;">
            This code expires in <strong>{expiry}</strong>. Enter it in the QkChat app; never share it with anyone.
            </td></tr>
            <tr><td style="padding:16px 32px 32px 32px;font-size:13px;line-height:20px;color:#6b7280;
             border-top:1px solid #e5e7eb;">
            {WebUtility.HtmlEncode(IfNotYou(mail.Purpose))}<br>
            This mail was sent to {to}.
            </td></tr>
            </table>
            </td></tr>
            </table>
            </body>
            </html>

            """;
    }

    /// <summary>The whole message, with the time left on the code at the moment it is built.</summary>
    public static MimeMessage Build(VerificationMail mail, MailboxAddress from, TimeSpan remaining, DateTimeOffset now)
    {
        if (!MailboxAddress.TryParse(mail.To, out var to) || to.Domain.Length == 0)
            throw new InvalidRecipientException("the recipient address cannot be parsed");
        var message = new MimeMessage();
        message.From.Add(from);
        message.To.Add(new MailboxAddress("", to.Address));
        message.Subject = Subject(mail.Purpose);
        message.Date = now;
        message.MessageId = MimeUtils.GenerateMessageId(from.Domain);
        // RFC 3834: vacation responders and mailing lists must not answer an automatic mail.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        // Exchange's own switch for the same (it ignores Auto-Submitted for out-of-office replies).
        message.Headers.Add("X-Auto-Response-Suppress", "All");
        message.Body = new BodyBuilder { TextBody = PlainText(mail, remaining), HtmlBody = Html(mail, remaining) }.ToMessageBody();
        return message;
    }
}
