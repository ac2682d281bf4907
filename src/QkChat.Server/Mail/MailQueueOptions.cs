namespace QkChat.Server.Mail;

/// <summary>
/// The mail queue's settings (mail.queue_capacity, max_attempts, retry_delay_s, timeout_s, drain_timeout_s): the
/// option registry binds them to these properties, whose initializers are the defaults (descriptions and risks:
/// OptionRegistry). The sender's address is <see cref="MailTransportOptions.From"/>, handed to the queue beside this.
/// </summary>
public sealed record MailQueueOptions
{
    // One relay connection sends about 5 mails/s (an estimate for a remote relay: ~4 round trips per mail plus its
    // own processing, 100-200 ms; loopback is far faster). 1,000 queued mails then drain in ~200 s, inside the
    // 5-minute life of a code (protocol.md §5); a longer backlog would deliver dead codes.
    public int Capacity { get; set; } = 1_000;

    // 5 attempts 2 s apart, doubling (2+4+8+16 = 30 s of waits), ride out a relay restart or a
    // provider's short 4xx throttling, and still leave the code most of its 5 minutes.
    public int MaxAttempts { get; set; } = 5;
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    // A relay answers in well under a second; 30 s tolerates a slow provider and bounds a stalled one to 10% of a
    // code's life per attempt.
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    // A healthy relay sends the few mails left at shutdown in under a second; 5 s plus server.shutdown_timeout_s
    // (10 s) stays far below systemd's default TimeoutStopSec of 90 s.
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    // Mail comes in bursts (a wave of registrations) or not at all. Keeping the relay connection 15 s after the last
    // mail covers the gaps inside a burst, and stays far below the 5 minutes of silence RFC 5321 §4.5.3.2.7 lets a
    // relay wait before hanging up, so we say QUIT before it drops us. Not a setting; tests shorten it.
    public TimeSpan IdleClose { get; set; } = TimeSpan.FromSeconds(15);

    // Backoff doubles from RetryDelay; the cap keeps a large mail.max_attempts from sleeping longer than a code lives
    // (5 minutes, protocol.md §5): with it a mail is never parked for more than a fifth of its validity. A
    // mail.retry_delay_s above it wins, since the operator asked for that wait explicitly.
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    /// <summary>The wait before retry number <paramref name="retry"/> (1-based): RetryDelay doubled each time, capped.</summary>
    public TimeSpan DelayBeforeRetry(int retry)
    {
        double seconds = RetryDelay.TotalSeconds * Math.Pow(2, Math.Min(retry - 1, 20));
        double cap = Math.Max(MaxRetryDelay.TotalSeconds, RetryDelay.TotalSeconds);
        return TimeSpan.FromSeconds(Math.Min(seconds, cap));
    }
}
