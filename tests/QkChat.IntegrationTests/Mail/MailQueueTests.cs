using System.Diagnostics;
using System.Text.RegularExpressions;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using QkChat.Core.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Mail;
using Xunit;

namespace QkChat.IntegrationTests.Mail;

/// <summary>The mail queue against an in-process SMTP sink: delivery, retries, give-up, back-pressure and draining.</summary>
public sealed partial class MailQueueTests : IAsyncDisposable
{
    private const string Recipient = "alice.secret@example.org";
    private readonly FakeSmtpServer _smtp = new();
    private readonly CapturingLogger _log = new();

    public async ValueTask DisposeAsync() => await _smtp.DisposeAsync();

    private static VerificationMail Mail(string code = "482913", CodePurpose purpose = CodePurpose.Register, string to = Recipient) =>
        new(to, code, purpose, TimeSpan.FromMinutes(5));

    private MailQueue Queue(int capacity = 100, int maxAttempts = 3, double drainSeconds = 5, int? port = null,
        string user = "", double idleSeconds = 15)
    {
        var options = new MailQueueOptions
        {
            Capacity = capacity,
            MaxAttempts = maxAttempts,
            RetryDelay = TimeSpan.FromMilliseconds(50),
            AttemptTimeout = TimeSpan.FromSeconds(5),
            DrainTimeout = TimeSpan.FromSeconds(drainSeconds),
            IdleClose = TimeSpan.FromSeconds(idleSeconds),
        };
        var smtp = new SmtpSettings("127.0.0.1", port ?? _smtp.Port, SecureSocketOptions.None, user, user.Length > 0 ? "pw" : "",
            TimeSpan.FromSeconds(5));
        return new MailQueue(options, MailboxAddress.Parse("QkChat <no-reply@qkchat.test>"), new SmtpTransport(smtp), _log);
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        long deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException("not reached: " + what);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [Fact(Timeout = 60_000)]
    public async Task A_queued_mail_arrives_with_text_and_html_parts_each_carrying_the_code_and_expiry()
    {
        await using var queue = Queue();
        Assert.True(queue.TryEnqueue(Mail()));

        var message = await _smtp.ReceiveAsync();
        Assert.Equal("multipart/alternative", message.Body!.ContentType.MimeType);
        Assert.Equal(Recipient, message.To.Mailboxes.Single().Address);
        Assert.Equal("no-reply@qkchat.test", message.From.Mailboxes.Single().Address);
        Assert.DoesNotContain("482", message.Subject);
        Assert.False(string.IsNullOrEmpty(message.MessageId));
        Assert.EndsWith("@qkchat.test", message.MessageId!);
        Assert.True(message.Date > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);

        Assert.Contains("482913", message.TextBody);
        Assert.Contains("expires in 5 minutes", message.TextBody);
        string htmlText = Tags().Replace(message.HtmlBody ?? "", "");
        Assert.Contains("482913", htmlText);
        Assert.Contains("expires in 5 minutes", htmlText);
        Assert.Contains("QkChat", htmlText);

        await EventuallyAsync(() => queue.Sent == 1 && queue.Pending == 0, "sent counted");
        Assert.Equal(1, queue.Queued);
        Assert.Equal(0, queue.Failed);
        Assert.DoesNotContain("482913", _log.All);
    }

    [Fact(Timeout = 60_000)]
    public async Task One_connection_carries_several_mails_and_authenticates_when_a_user_is_set()
    {
        await using var queue = Queue(user: "mailer");
        for (int i = 0; i < 3; i++) Assert.True(queue.TryEnqueue(Mail(code: $"10000{i}")));
        for (int i = 0; i < 3; i++) Assert.Contains($"10000{i}", (await _smtp.ReceiveAsync()).TextBody);
        Assert.Equal(1, _smtp.Connections);
        Assert.Equal("mailer\0pw", _smtp.AuthPlain);
    }

    [Fact(Timeout = 60_000)]
    public async Task Transient_refusals_are_retried_and_the_mail_then_goes_through()
    {
        _smtp.FailNext(2, 451);
        await using var queue = Queue(maxAttempts: 3);
        Assert.True(queue.TryEnqueue(Mail()));

        Assert.Contains("482913", (await _smtp.ReceiveAsync()).TextBody);
        await EventuallyAsync(() => queue.Sent == 1, "sent counted");
        Assert.Equal(2, queue.Retried);
        Assert.Equal(0, queue.Failed);
        var warnings = _log.At(LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains("@example.org", w));
        Assert.All(warnings, w => Assert.Contains("451", w));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_relay_that_stays_unreachable_is_given_up_after_max_attempts_logged_and_counted_never_thrown()
    {
        int closedPort = FreePort();
        await using var queue = Queue(maxAttempts: 3, port: closedPort);
        Assert.True(queue.TryEnqueue(Mail()));

        await EventuallyAsync(() => queue.Failed == 1 && _log.At(LogLevel.Error).Any(), "given up and logged");
        Assert.Equal(2, queue.Retried);
        Assert.Equal(0, queue.Sent);
        Assert.Equal(0, queue.Pending);
        string error = Assert.Single(_log.At(LogLevel.Error));
        Assert.Contains("@example.org", error);
        Assert.Contains("3 attempt", error);
        Assert.Contains("ConnectionRefused", error);
        Assert.DoesNotContain("alice", _log.All);
        Assert.DoesNotContain("482913", _log.All);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_permanent_refusal_is_not_retried_and_the_connection_serves_the_next_mail()
    {
        _smtp.FailNext(1, 550);
        await using var queue = Queue(maxAttempts: 5);
        Assert.True(queue.TryEnqueue(Mail(code: "111111")));
        Assert.True(queue.TryEnqueue(Mail(code: "222222")));

        Assert.Contains("222222", (await _smtp.ReceiveAsync()).TextBody);
        await EventuallyAsync(() => queue.Failed == 1 && queue.Sent == 1 && _log.At(LogLevel.Error).Any(), "one failed and logged, one sent");
        Assert.Equal(0, queue.Retried);
        Assert.Equal(1, _smtp.Connections);
        Assert.Contains("550", Assert.Single(_log.At(LogLevel.Error)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_the_relay_dropped_while_idle_is_reopened_without_spending_an_attempt()
    {
        await using var queue = Queue(maxAttempts: 1);
        Assert.True(queue.TryEnqueue(Mail(code: "111111")));
        await _smtp.ReceiveAsync();
        await EventuallyAsync(() => queue.Sent == 1, "first sent");
        _smtp.HangUpAll();
        await Task.Delay(100, TestContext.Current.CancellationToken);

        Assert.True(queue.TryEnqueue(Mail(code: "222222")));
        Assert.Contains("222222", (await _smtp.ReceiveAsync()).TextBody);
        await EventuallyAsync(() => queue.Sent == 2, "second sent");
        Assert.Equal(0, queue.Failed);
        Assert.Equal(2, _smtp.Connections);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_idle_connection_is_closed_with_quit()
    {
        await using var queue = Queue(idleSeconds: 0.2);
        Assert.True(queue.TryEnqueue(Mail()));
        await _smtp.ReceiveAsync();
        await EventuallyAsync(() => _smtp.Quits == 1, "QUIT after idling");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_queue_refuses_at_once_and_a_drain_past_its_deadline_drops_and_logs_the_rest()
    {
        // The relay stalls for far longer than any wait below, so finishing within those waits proves not waiting for it.
        _smtp.DataDelay = TimeSpan.FromMinutes(10);
        var queue = Queue(capacity: 2, drainSeconds: 0.5);
        Assert.True(queue.TryEnqueue(Mail(code: "111111")));
        Assert.True(queue.TryEnqueue(Mail(code: "222222")));

        // A blocking enqueue would wait out the 10-minute stall; 60 s is generous for a loaded box and far below it.
        bool third = await Task.Run(() => queue.TryEnqueue(Mail(code: "333333")))
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.False(third);
        Assert.Equal(1, queue.Rejected);
        Assert.Equal(2, queue.Pending);

        var watch = Stopwatch.StartNew();
        await queue.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        // It waited for its drain deadline (0.5 s) before dropping: a lower bound, which load can only lengthen.
        // It ended without the stalled sends (10 minutes), which the 60 s wait above proves.
        Assert.True(watch.Elapsed.TotalSeconds >= 0.4, $"dropped after {watch.Elapsed}, before the drain deadline");
        Assert.Equal(2, queue.Failed);
        Assert.Equal(0, queue.Pending);
        Assert.Contains(_log.At(LogLevel.Error), l => l.Contains("2 mail(s) not sent"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispose_sends_what_is_queued_within_the_deadline_then_refuses_more()
    {
        var queue = Queue(drainSeconds: 5);
        for (int i = 0; i < 5; i++) Assert.True(queue.TryEnqueue(Mail(code: $"20000{i}")));

        await queue.DisposeAsync();
        // Sent, not dropped: a mail still queued at the drain deadline would count as failed.
        Assert.Equal(5, queue.Sent);
        Assert.Equal(0, queue.Failed);
        for (int i = 0; i < 5; i++) Assert.Contains($"20000{i}", (await _smtp.ReceiveAsync()).TextBody);
        Assert.False(queue.TryEnqueue(Mail()));
        Assert.Equal(1, _smtp.Quits);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_mail_whose_code_expired_in_the_queue_is_not_sent()
    {
        await using var queue = Queue();
        Assert.True(queue.TryEnqueue(Mail() with { ValidFor = TimeSpan.Zero }));
        // The queue counts the drop before it writes the log line: wait for both, or the check races the worker.
        await EventuallyAsync(() => queue.Failed == 1 && _log.At(LogLevel.Error).Any(), "expired mail dropped and logged");
        Assert.Contains("expired", Assert.Single(_log.At(LogLevel.Error)));
        Assert.False(_smtp.TryReceive(out _));
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
