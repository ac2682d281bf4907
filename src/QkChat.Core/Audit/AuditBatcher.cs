using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;

namespace QkChat.Core.Audit;

/// <summary>One security event with the time it happened (Unix ms), as the writer stores it.</summary>
public readonly record struct AuditRow(long At, AuditRecord Record);

/// <summary>Where batches of audit rows are stored (MariaDB in the server, a fake in unit tests).</summary>
public interface IAuditSink
{
    /// <summary>Stores the whole batch, or throws having stored none of it.</summary>
    Task WriteAsync(IReadOnlyList<AuditRow> batch, CancellationToken ct);
}

/// <summary>
/// The audit log: a bounded queue that any thread (reactors included) appends to without blocking, and one writer
/// that stores whatever has gathered as one multi-row INSERT (the idea of Messaging/WriteBehind, without answers:
/// nobody waits for an audit row). When the queue is full the event is dropped and counted, and one warning is
/// logged per episode (until the writer has caught up to half the capacity), so a flood neither blocks requests nor
/// floods the log. A failed write keeps its batch and retries with a growing pause: a short database outage loses
/// nothing that fits in the queue.
/// </summary>
public sealed partial class AuditBatcher : IAuditLog, IAsyncDisposable
{
    private static readonly TimeSpan MaxRetryPause = TimeSpan.FromSeconds(10);

    /// <summary>Stored events kept for the admin dashboard's "last security events" panel.</summary>
    public const int RecentCapacity = 50;

    private readonly ConcurrentQueue<AuditRow> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly AuditOptions _options;
    private readonly IAuditSink _sink;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly Queue<AuditRow> _recent = new();
    private readonly Lock _recentGate = new();
    private int _signaled, _queued, _dropping, _writing;
    private long _dropped, _written, _batches, _episodeStart;
    private volatile bool _stopping;

    public AuditBatcher(AuditOptions options, IAuditSink sink, ILogger logger)
    {
        _options = options;
        _sink = sink;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Events dropped since start because the queue was full (or the writer had stopped).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public long Written => Interlocked.Read(ref _written);

    public long Batches => Interlocked.Read(ref _batches);

    public int Queued => Volatile.Read(ref _queued);

    /// <summary>How long each write attempt of a batch took, stored or failed (qkchat_batch_commit_seconds{batcher="audit"}).</summary>
    public LatencyHistogram CommitTimes { get; } = new();

    public void Record(in AuditRecord record)
    {
        if (!_options.Enabled) return;
        if (_stopping)
        {
            Drop(); // after shutdown began nothing would store it: counted, not lost silently
            return;
        }
        if (Interlocked.Increment(ref _queued) > _options.QueueCapacity)
        {
            Interlocked.Decrement(ref _queued);
            Drop();
            return;
        }
        _queue.Enqueue(new AuditRow(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), record));
        if (Interlocked.Exchange(ref _signaled, 1) == 0) _signal.Release();
    }

    private void Drop()
    {
        long total = Interlocked.Increment(ref _dropped);
        // Only the first drop of an episode logs: a flood must not turn into a flood of warnings.
        if (Interlocked.Exchange(ref _dropping, 1) == 0)
        {
            Interlocked.Exchange(ref _episodeStart, total - 1);
            LogFull(_logger, _options.QueueCapacity);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<AuditRow>();
        while (true)
        {
            await _signal.WaitAsync();
            Volatile.Write(ref _signaled, 0); // cleared before draining: a row queued from here on signals again
            while (!_queue.IsEmpty)
            {
                Volatile.Write(ref _writing, 1);
                int max = Math.Max(1, _options.BatchSize);
                while (batch.Count < max && _queue.TryDequeue(out var row)) batch.Add(row);
                Interlocked.Add(ref _queued, -batch.Count);
                await WriteWithRetryAsync(batch);
                batch.Clear();
                Volatile.Write(ref _writing, 0);
                EndEpisodeIfCaughtUp();
            }
            if (_stopping && _queue.IsEmpty) return;
        }
    }

    private async Task WriteWithRetryAsync(List<AuditRow> batch)
    {
        var pause = TimeSpan.FromMilliseconds(500);
        for (int attempt = 1; ; attempt++)
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                await _sink.WriteAsync(batch, CancellationToken.None);
                CommitTimes.RecordSince(started);
                Interlocked.Add(ref _written, batch.Count);
                Remember(batch);
                Interlocked.Increment(ref _batches);
                if (attempt > 1) LogRecovered(_logger, batch.Count, attempt);
                return;
            }
            catch (Exception e)
            {
                CommitTimes.RecordSince(started);
                if (attempt == 1) LogWriteFailed(_logger, batch.Count, e.Message);
                // At shutdown nobody waits for a database that is down: the batch is counted and given up.
                if (_stopping && attempt >= 2)
                {
                    Interlocked.Add(ref _dropped, batch.Count);
                    LogGivenUp(_logger, batch.Count);
                    return;
                }
                await Task.Delay(pause);
                pause = pause * 2 < MaxRetryPause ? pause * 2 : MaxRetryPause;
            }
        }
    }

    /// <summary>Filled by the writer after a batch is stored (never on a reactor); read by the dashboard.</summary>
    private void Remember(List<AuditRow> batch)
    {
        lock (_recentGate)
        {
            foreach (var row in batch.Count > RecentCapacity ? batch[^RecentCapacity..] : batch)
            {
                if (_recent.Count == RecentCapacity) _recent.Dequeue();
                _recent.Enqueue(row);
            }
        }
    }

    /// <summary>The last stored security events, oldest first (at most <see cref="RecentCapacity"/>).</summary>
    public List<AuditRow> Recent()
    {
        lock (_recentGate) return [.. _recent];
    }

    private void EndEpisodeIfCaughtUp()
    {
        if (Volatile.Read(ref _dropping) == 0 || Queued > _options.QueueCapacity / 2) return;
        if (Interlocked.Exchange(ref _dropping, 0) == 1)
        {
            long total = Dropped;
            LogCaughtUp(_logger, total - Interlocked.Read(ref _episodeStart), total);
        }
    }

    /// <summary>Waits until every queued row is stored (tests, benchmarks); false on timeout.</summary>
    public async Task<bool> WhenIdleAsync(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Queued > 0 || Volatile.Read(ref _writing) == 1)
        {
            if (Environment.TickCount64 > deadline) return false;
            await Task.Delay(10);
        }
        return true;
    }

    /// <summary>Stops taking rows and stores what is queued (shutdown: after the connections closed).</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _signal.Release();
        await _loop;
        if (Dropped > 0) LogDroppedTotal(_logger, Dropped, Written);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "audit log full ({Capacity} events waiting): security events are being dropped and counted until the writer catches up")]
    private static partial void LogFull(ILogger logger, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "audit log caught up: {Episode} security event(s) dropped in that episode, {Total} since start")]
    private static partial void LogCaughtUp(ILogger logger, long episode, long total);

    [LoggerMessage(Level = LogLevel.Error, Message = "audit log: a batch of {Count} event(s) was not stored ({Error}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, int count, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "audit log: a batch of {Count} event(s) stored after {Attempts} attempts")]
    private static partial void LogRecovered(ILogger logger, int count, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "audit log: shutting down with the database unavailable; {Count} event(s) not stored")]
    private static partial void LogGivenUp(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "audit log: {Dropped} security event(s) dropped since start ({Written} stored)")]
    private static partial void LogDroppedTotal(ILogger logger, long dropped, long written);
}
