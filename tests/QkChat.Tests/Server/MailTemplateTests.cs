using System.Text.RegularExpressions;
using MimeKit;
using QkChat.Core.Accounts;
using QkChat.Server.Mail;
using Xunit;

namespace QkChat.Tests.Server;

public sealed partial class MailTemplateTests
{
    private static readonly MailboxAddress From = MailboxAddress.Parse("QkChat <no-reply@qkchat.test>");
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);

    private static VerificationMail Mail(string code = "123456", string to = "dana@example.org", CodePurpose purpose = CodePurpose.Register) =>
        new(to, code, purpose, FiveMinutes);

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [Fact]
    public void A_six_digit_code_shows_in_two_groups_yet_copies_as_one_word()
    {
        string html = MailTemplate.CodeHtml("123456");
        Assert.Equal("123456", Tags().Replace(html, ""));
        Assert.Contains("<span>123</span>", html);
        Assert.Contains(">456</span>", html);

        string text = MailTemplate.PlainText(Mail(), FiveMinutes);
        Assert.Contains("\n    123456\n", text);
        Assert.DoesNotContain("123 456", text);
    }

    [Fact]
    public void Variable_parts_are_html_escaped()
    {
        string html = MailTemplate.Html(Mail(code: "<b>&\"x'", to: "o'brien&<co>@example.org"), FiveMinutes);
        Assert.Contains("&lt;b&gt;&amp;&quot;x&#39;", html);
        Assert.Contains("o&#39;brien&amp;&lt;co&gt;@example.org", html);
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("<co>", html);
    }

    [Theory]
    [InlineData(300, "5 minutes")]
    [InlineData(299.5, "5 minutes")]
    [InlineData(240, "4 minutes")]
    [InlineData(200, "3 minutes")]
    [InlineData(60, "1 minute")]
    [InlineData(30, "less than a minute")]
    [InlineData(0, "less than a minute")]
    public void The_expiry_is_stated_in_whole_minutes_never_more_than_is_left(double seconds, string expected) =>
        Assert.Equal(expected, MailTemplate.ExpiryText(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Each_purpose_says_what_the_code_is_for_and_what_to_do_if_unasked()
    {
        var register = MailTemplate.Build(Mail(), From, FiveMinutes, DateTimeOffset.UtcNow);
        var reset = MailTemplate.Build(Mail(purpose: CodePurpose.ResetPassword), From, FiveMinutes, DateTimeOffset.UtcNow);
        Assert.Contains("creating your QkChat account", register.TextBody);
        Assert.Contains("reset the password", reset.TextBody);
        Assert.Contains("reset the password", reset.HtmlBody);
        Assert.Contains("If you did not ask for this, ignore this mail", register.TextBody);
        Assert.Contains("If you did not ask for this, ignore this mail", reset.HtmlBody);
        Assert.NotEqual(register.Subject, reset.Subject);
    }

    [Fact]
    public void The_message_is_multipart_alternative_text_first_with_headers_set_and_no_code_in_the_subject()
    {
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var message = MailTemplate.Build(Mail(), From, FiveMinutes, now);

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        Assert.DoesNotMatch("[0-9]", message.Subject);
        Assert.Equal(now, message.Date);
        Assert.EndsWith("@qkchat.test", message.MessageId!);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);
        Assert.Equal("no-reply@qkchat.test", message.From.Mailboxes.Single().Address);
        Assert.Equal("dana@example.org", message.To.Mailboxes.Single().Address);
    }

    [Fact]
    public void The_html_has_no_external_resources_and_only_inline_css()
    {
        string html = MailTemplate.Html(Mail(), FiveMinutes);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("<style", html);
        Assert.DoesNotContain("http", html);
        Assert.True(html.All(char.IsAscii), "template stays ASCII so the .eml drop reads as plain text");
        Assert.True(html.Split('\n').All(l => l.Length < 200), "short lines keep the part 7bit, readable in a terminal");
    }

    [Fact]
    public void An_unparseable_recipient_is_refused()
    {
        Assert.Throws<InvalidRecipientException>(() => MailTemplate.Build(Mail(to: "not an address"), From, FiveMinutes, DateTimeOffset.UtcNow));
    }
}
