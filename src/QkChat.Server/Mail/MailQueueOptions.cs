using MimeKit;
using QkChat.Server.Configuration;

namespace QkChat.Server.Mail;

/// <summary>The mail queue's settings, taken from <see cref="ServerOptions"/> (defaults and their reasons: OptionRegistry).</summary>
internal sealed record MailQueueOptions
{
    public int Capacity { get; init; } = 1_000;
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public required MailboxAddress From { get; init; }

    // Mail comes in bursts (a wave of registrations) or not at all. Keeping the relay connection 15 s after the last
    // mail covers the gaps inside a burst, and stays far below the 5 minutes of silence RFC 5321 §4.5.3.2.7 lets a
    // relay wait before hanging up, so we say QUIT before it drops us. Not a setting; tests shorten it.
    public TimeSpan IdleClose { get; init; } = TimeSpan.FromSeconds(15);

    // Backoff doubles from RetryDelay; the cap keeps a large mail.max_attempts from sleeping longer than a code lives
    // (5 minutes, protocol.md §5): with it a mail is never parked for more than a fifth of its validity. A
    // mail.retry_delay_s above it wins, since the operator asked for that wait explicitly.
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    public static MailQueueOptions FromServer(ServerOptions o) => new()
    {
        Capacity = o.MailQueueCapacity,
        MaxAttempts = o.MailMaxAttempts,
        RetryDelay = TimeSpan.FromSeconds(o.MailRetryDelaySeconds),
        AttemptTimeout = TimeSpan.FromSeconds(o.MailTimeoutSeconds),
        DrainTimeout = TimeSpan.FromSeconds(o.MailDrainTimeoutSeconds),
        From = ParseFrom(o.SmtpFrom),
    };

    /// <summary>smtp.from as a mailbox; a value that is not one is a configuration error, reported at start.</summary>
    public static MailboxAddress ParseFrom(string from)
    {
        if (MailboxAddress.TryParse(from, out var mailbox) && mailbox.Domain.Length > 0)
            return mailbox;
        throw new ConfigException($"smtp.from: \"{from}\" is not a mail address (expected e.g. QkChat <no-reply@example.org>)");
    }

    /// <summary>The wait before retry number <paramref name="retry"/> (1-based): RetryDelay doubled each time, capped.</summary>
    public TimeSpan DelayBeforeRetry(int retry)
    {
        double seconds = RetryDelay.TotalSeconds * Math.Pow(2, Math.Min(retry - 1, 20));
        double cap = Math.Max(MaxRetryDelay.TotalSeconds, RetryDelay.TotalSeconds);
        return TimeSpan.FromSeconds(Math.Min(seconds, cap));
    }
}
