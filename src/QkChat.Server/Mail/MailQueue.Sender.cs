using Microsoft.Extensions.Logging;
using ZLogger;

namespace QkChat.Server.Mail;

public sealed partial class MailQueue
{
    /// <summary>The single sender: takes due retries first, then new mails; sleeps until one of them is ready.</summary>
    private async Task RunAsync()
    {
        var ct = _abort.Token;
        var reader = _channel.Reader;
        var retries = new PriorityQueue<PendingMail, long>();
        bool inputDone = false;
        long lastActivity = _time.GetTimestamp();
        try
        {
            while (true)
            {
                PendingMail? next = null;
                bool retryWaiting = retries.TryPeek(out _, out long retryDue);
                if (retryWaiting && retryDue <= _time.GetTimestamp())
                    next = retries.Dequeue();
                else if (!inputDone && reader.TryRead(out var fresh))
                    next = fresh;

                if (next is not null)
                {
                    await AttemptAsync(next, retries, ct);
                    lastActivity = _time.GetTimestamp();
                    continue;
                }
                if (inputDone && !retryWaiting) break;

                // Nothing ready: sleep until a mail arrives, a retry falls due, or the idle connection should go.
                long now = _time.GetTimestamp();
                long wake = retryWaiting ? retryDue : long.MaxValue;
                bool idleDue = _transport.HoldsConnection;
                if (idleDue) wake = Math.Min(wake, lastActivity + Ticks(_options.IdleClose));
                TimeSpan sleep = wake == long.MaxValue ? Timeout.InfiniteTimeSpan : _time.GetElapsedTime(now, Math.Max(wake, now));
                if (inputDone)
                    await Task.Delay(sleep, _time, ct);
                else if (!await WaitForInputAsync(reader, sleep, ct))
                    inputDone = true;

                if (idleDue && _time.GetElapsedTime(lastActivity) >= _options.IdleClose)
                    await _transport.CloseIdleAsync(ct);
            }
            // Drained: leave the relay politely rather than letting the socket die with the process.
            await _transport.CloseIdleAsync(ct);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            AbandonAll();
        }
        catch (Exception e)
        {
            // A bug, not a mail problem: stop accepting so callers answer SERVER_BUSY instead of queueing forever.
            Volatile.Write(ref _closed, 1);
            LogSenderCrashed(_logger, e);
            AbandonAll();
        }
    }

    /// <summary>Waits for a new mail for at most <paramref name="timeout"/>; false once the channel is completed and empty.</summary>
    private static async Task<bool> WaitForInputAsync(System.Threading.Channels.ChannelReader<PendingMail> reader, TimeSpan timeout, CancellationToken ct)
    {
        if (timeout == Timeout.InfiniteTimeSpan) return await reader.WaitToReadAsync(ct);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            return await reader.WaitToReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return true;
        }
    }

    private async Task AttemptAsync(PendingMail pending, PriorityQueue<PendingMail, long> retries, CancellationToken ct)
    {
        pending.Attempts++;
        string domain = MailFailure.DomainOf(pending.Mail.To);
        TimeSpan left = pending.Mail.ValidFor - _time.GetElapsedTime(pending.EnqueuedAt);
        if (left <= TimeSpan.Zero)
        {
            Finish(failed: true);
            LogGaveUp(_logger, domain, pending.Attempts - 1, "its code expired before the mail could be sent");
            return;
        }
        try
        {
            pending.Message ??= MailTemplate.Build(pending.Mail, _from, left, _time.GetUtcNow());
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(_options.AttemptTimeout);
            try
            {
                await _transport.SendAsync(pending.Message, attempt.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException("no answer within mail.timeout_s");
            }
            Finish(failed: false);
            LogSent(_logger, domain, pending.Attempts);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            string reason = MailFailure.Describe(e, pending.Mail.To);
            if (MailFailure.IsTransient(e) && pending.Attempts < _options.MaxAttempts)
            {
                TimeSpan delay = _options.DelayBeforeRetry(pending.Attempts);
                Interlocked.Increment(ref _retried);
                retries.Enqueue(pending, _time.GetTimestamp() + Ticks(delay));
                LogRetrying(_logger, domain, pending.Attempts, _options.MaxAttempts, delay.TotalSeconds, reason);
                return;
            }
            Finish(failed: true);
            LogGaveUp(_logger, domain, pending.Attempts, reason);
        }
    }

    private void Finish(bool failed)
    {
        Interlocked.Increment(ref failed ? ref _failed : ref _sent);
        Interlocked.Decrement(ref _inSystem);
    }

    /// <summary>Counts everything still accepted (waiting, parked or in flight) as failed, with one line for all.</summary>
    private void AbandonAll()
    {
        int left = Interlocked.Exchange(ref _inSystem, 0);
        if (left == 0) return;
        Interlocked.Add(ref _failed, left);
        LogAbandoned(_logger, left);
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    [ZLoggerMessage(LogLevel.Debug, "mail to @{domain} sent (attempt {attempt})")]
    private static partial void LogSent(ILogger logger, string domain, int attempt);

    [ZLoggerMessage(LogLevel.Warning, "mail to @{domain}: attempt {attempt} of {maxAttempts} failed, retrying in {delaySeconds} s: {reason}")]
    private static partial void LogRetrying(ILogger logger, string domain, int attempt, int maxAttempts, double delaySeconds, string reason);

    [ZLoggerMessage(LogLevel.Error, "mail to @{domain} NOT sent after {attempts} attempt(s), giving up: {reason}")]
    private static partial void LogGaveUp(ILogger logger, string domain, int attempts, string reason);

    [ZLoggerMessage(LogLevel.Error, "{count} mail(s) not sent within mail.drain_timeout_s at shutdown; dropped")]
    private static partial void LogAbandoned(ILogger logger, int count);

    [ZLoggerMessage(LogLevel.Critical, "the mail sender stopped on an unexpected error; no more mail will be sent until restart")]
    private static partial void LogSenderCrashed(ILogger logger, Exception exception);
}
