using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MimeKit;
using QkChat.Core.Accounts;
using ZLogger;

namespace QkChat.Server.Mail;

/// <summary>
/// The server's <see cref="IMailer"/>: a bounded queue drained by one background sender. Callers (reactors) only
/// enqueue, which never blocks and never runs sending code on their thread. Transient failures are retried with a
/// doubling delay; a mail that still fails is logged once (recipient domain only, never the code) and counted.
/// At shutdown <see cref="DrainAsync"/> sends what it can before a deadline (architecture.md §4).
/// </summary>
public sealed partial class MailQueue : IMailer, IAsyncDisposable
{
    private readonly MailQueueOptions _options;
    private readonly MailboxAddress _from;
    private readonly IMailTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<PendingMail> _channel;
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _sender;
    private readonly Lock _drainGate = new();
    private Task? _drain;

    // Mails accepted and not finished: waiting in the channel, waiting for a retry, or being sent. The bound applies
    // to this count, so mails parked for a retry still hold their place and a dead relay cannot grow memory.
    private int _inSystem;
    private int _closed;
    private long _queued;
    private long _rejected;
    private long _sent;
    private long _retried;
    private long _failed;

    internal MailQueue(MailQueueOptions options, MailboxAddress from, IMailTransport transport, ILogger logger, TimeProvider? time = null)
    {
        _options = options;
        _from = from;
        _transport = transport;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _channel = Channel.CreateBounded<PendingMail>(new BoundedChannelOptions(options.Capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            // Never run the sender's continuation inline on the enqueuing thread: that thread is a reactor.
            AllowSynchronousContinuations = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        LogTransport(_logger, transport.Description, options.Capacity, options.MaxAttempts);
        _sender = Task.Run(RunAsync);
    }

    /// <summary>The queue for these options: SMTP when smtp.host is set, the .eml drop otherwise.</summary>
    /// <exception cref="ArgumentException">smtp.from is not a mail address (ConfigLoader rejects that configuration first).</exception>
    public static MailQueue Create(MailQueueOptions queue, MailTransportOptions mail, ILoggerFactory loggers)
    {
        var from = MailTransportOptions.ParseFrom(mail.From)
            ?? throw new ArgumentException($"smtp.from: \"{mail.From}\" is not a mail address", nameof(mail));
        var logger = loggers.CreateLogger("Mail");
        IMailTransport transport = mail.Host.Trim().Length == 0
            ? new DropTransport(mail.DropDir, logger)
            : new SmtpTransport(new SmtpSettings(mail.Host.Trim(), mail.Port,
                SmtpSettings.SecurityFrom(mail.ImplicitTls, mail.StartTls),
                mail.User, mail.Password, queue.AttemptTimeout));
        return new MailQueue(queue with { }, from, transport, logger);
    }

    /// <summary>Mails accepted since start.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Mails refused because the queue was full or shutting down.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Mails the relay accepted (or the drop wrote).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Attempts that failed transiently and were scheduled again.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>Mails given up: permanent errors, attempts exhausted, expired codes, or cut off at shutdown.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Mails accepted and not yet finished (waiting, retrying or in flight); never above the capacity.</summary>
    public int Pending => Volatile.Read(ref _inSystem);

    public bool TryEnqueue(VerificationMail mail)
    {
        ArgumentNullException.ThrowIfNull(mail);
        if (Volatile.Read(ref _closed) != 0) return Reject();
        int count;
        do
        {
            count = Volatile.Read(ref _inSystem);
            if (count >= _options.Capacity) return Reject();
        }
        while (Interlocked.CompareExchange(ref _inSystem, count + 1, count) != count);

        // Counted before the write so that Sent never reads above Queued.
        Interlocked.Increment(ref _queued);
        // The channel holds at most what _inSystem admits, so this fails only when a drain completed it just now.
        if (!_channel.Writer.TryWrite(new PendingMail(mail, _time.GetTimestamp())))
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Decrement(ref _inSystem);
            return Reject();
        }
        return true;
    }

    /// <summary>
    /// Stops accepting, then keeps sending until the queue is empty or <paramref name="deadline"/> passes; what is
    /// left then is dropped, counted as failed and logged. Safe to call more than once.
    /// </summary>
    public Task DrainAsync(TimeSpan deadline)
    {
        lock (_drainGate)
        {
            return _drain ??= DrainCoreAsync(deadline);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DrainAsync(_options.DrainTimeout);
        // Only once the sender is done: the transport and the token belong to it, and the transport is not thread-safe.
        if (!_sender.IsCompleted) return;
        await _transport.DisposeAsync();
        _abort.Dispose();
    }

    private async Task DrainCoreAsync(TimeSpan deadline)
    {
        Volatile.Write(ref _closed, 1);
        _channel.Writer.TryComplete();
        try
        {
            await _sender.WaitAsync(deadline, _time);
            return;
        }
        catch (TimeoutException)
        {
        }
        await _abort.CancelAsync();
        try
        {
            // A cancelled socket or file operation returns within milliseconds; this bound only guards shutdown
            // against a library call that ignores its token.
            await _sender.WaitAsync(TimeSpan.FromSeconds(1), _time);
        }
        catch (TimeoutException)
        {
            LogSenderStuck(_logger);
        }
    }

    private bool Reject()
    {
        Interlocked.Increment(ref _rejected);
        return false;
    }

    /// <summary>One accepted mail and its progress; touched only by the sender after it leaves the channel.</summary>
    private sealed class PendingMail(VerificationMail mail, long enqueuedAt)
    {
        public VerificationMail Mail { get; } = mail;
        public long EnqueuedAt { get; } = enqueuedAt;
        public int Attempts { get; set; }

        // Built once, so every retry carries the same Message-Id and a receiver can tell a duplicate.
        public MimeMessage? Message { get; set; }
    }

    [ZLoggerMessage(LogLevel.Information, "{transport}; queue of {capacity}, up to {attempts} attempts per mail")]
    private static partial void LogTransport(ILogger logger, string transport, int capacity, int attempts);

    [ZLoggerMessage(LogLevel.Error, "the mail sender did not stop after its drain deadline; abandoning it")]
    private static partial void LogSenderStuck(ILogger logger);
}
