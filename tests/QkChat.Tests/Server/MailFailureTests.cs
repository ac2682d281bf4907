using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;
using QkChat.Server.Configuration;
using QkChat.Server.Mail;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class MailFailureTests
{
    private static SmtpCommandException Reply(int code, string text = "no") =>
        new(SmtpErrorCode.SenderNotAccepted, (SmtpStatusCode)code, text);

    [Fact]
    public void Network_trouble_timeouts_and_4xx_are_retried_5xx_and_configuration_errors_are_not()
    {
        Assert.True(MailFailure.IsTransient(Reply(451)));
        Assert.True(MailFailure.IsTransient(Reply(421)));
        Assert.True(MailFailure.IsTransient(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.True(MailFailure.IsTransient(new TimeoutException()));
        Assert.True(MailFailure.IsTransient(new IOException()));
        Assert.False(MailFailure.IsTransient(Reply(550)));
        Assert.False(MailFailure.IsTransient(Reply(554)));
        Assert.False(MailFailure.IsTransient(new AuthenticationException("bad password")));
        Assert.False(MailFailure.IsTransient(new InvalidRecipientException("x")));
        Assert.False(MailFailure.IsTransient(new InvalidOperationException()));
    }

    [Fact]
    public void The_reason_names_the_recipient_domain_only()
    {
        var e = Reply(550, "5.1.1 <Erin.Private@Example.org>: Recipient address rejected");
        string reason = MailFailure.Describe(e, "erin.private@example.org");
        Assert.Contains("550", reason);
        Assert.Contains("***@example.org", reason);
        Assert.DoesNotContain("erin", reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("example.org", MailFailure.DomainOf("erin.private@example.org"));
    }

    [Fact]
    public void Long_or_multi_line_replies_are_cut_to_one_short_line()
    {
        string reason = MailFailure.Describe(Reply(451, new string('x', 1000) + "\nsecond line"), "a@b.c");
        Assert.True(reason.Length <= 303);
        Assert.DoesNotContain("\n", reason);
    }

    [Fact]
    public void Retry_delays_double_from_the_first_and_are_capped()
    {
        var options = new MailQueueOptions { RetryDelay = TimeSpan.FromSeconds(2) };
        Assert.Equal([2.0, 4, 8, 16, 32, 60, 60], Enumerable.Range(1, 7).Select(i => options.DelayBeforeRetry(i).TotalSeconds));
        var slow = options with { RetryDelay = TimeSpan.FromSeconds(120) };
        Assert.Equal(120, slow.DelayBeforeRetry(3).TotalSeconds);
    }

    [Fact]
    public void Options_come_from_the_server_configuration_and_a_bad_sender_is_a_configuration_error()
    {
        var server = new ServerOptions();
        var options = server.MailQueue;
        Assert.Equal(1_000, options.Capacity);
        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(2), options.RetryDelay);
        var from = MailTransportOptions.ParseFrom(server.MailTransport.From)!;
        Assert.Equal("no-reply@qkchat.local", from.Address);
        Assert.Equal("QkChat", from.Name);

        Assert.Null(MailTransportOptions.ParseFrom("not a mailbox"));
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null,
            [new KeyValuePair<string, string>("smtp.from", "not a mailbox")], new System.Collections.Hashtable()));
        Assert.Contains("smtp.from", e.Message);
    }

    [Fact]
    public void The_tls_mode_follows_implicit_tls_then_starttls()
    {
        Assert.Equal(SecureSocketOptions.SslOnConnect, SmtpSettings.SecurityFrom(implicitTls: true, startTls: true));
        Assert.Equal(SecureSocketOptions.StartTls, SmtpSettings.SecurityFrom(implicitTls: false, startTls: true));
        Assert.Equal(SecureSocketOptions.None, SmtpSettings.SecurityFrom(implicitTls: false, startTls: false));
    }
}
