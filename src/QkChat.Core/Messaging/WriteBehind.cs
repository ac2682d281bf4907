using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;

namespace QkChat.Core.Messaging;

/// <summary>
/// The write-behind batcher of architecture.md §2: requests queue here and one writer stores whatever has gathered
/// as one batch in one transaction (group commit: while a batch commits the next one fills), then answers each.
/// Nobody is answered before their batch is durable, and a failed batch answers each of its items, so nothing is
/// acknowledged that is not stored. With a depth of 1 (the default) one batch is written at a time, so commits follow
/// queue order. A deeper writer (<see cref="MessageWriter"/>: message.writers) stores up to that many batches at once,
/// each in its own transaction on its own connection, so a batch does not wait for the previous one's fsync; it splits
/// the write into <see cref="StoreAsync"/> (concurrent) and <see cref="Release"/>, which runs in queue order, each
/// batch's after every earlier batch's, so answers, pushes and <see cref="WhenWrittenAsync"/> still follow queue order.
/// </summary>
public abstract partial class WriteBehind<T> : IAsyncDisposable where T : class
{
    private readonly ConcurrentQueue<T> _queue = new();
    private readonly WakeSignal _signal = new();
    private readonly int _capacity;
    private int _maxBatchWeight;
    private long _delayTicks;
    private readonly Task _loop;
    // Batches being stored or waiting for their turn to be released: at most the depth (see the class summary).
    private readonly SemaphoreSlim _slots;
    private readonly int _depth;
    // Emptied batch lists for the next batches (one per slot, so a deep writer does not allocate a list per batch).
    private readonly ConcurrentBag<List<T>> _lists = [];
    private int _signaled, _queued, _batchesInFlight;
    private volatile bool _stopping;
    // _entering counts TryEnqueue calls under way, so that the stop can wait until none is between its check of
    // _stopping and its Enqueue; _sealed then tells the loop that nothing more can arrive (see DrainAsync).
    private int _entering;
    private volatile bool _sealed;
    private Task<DrainOutcome>? _drain;

    // Items accepted and items done (written or failed), for WhenWrittenAsync.
    private long _accepted, _done;
    private readonly List<(long Upto, TaskCompletionSource Done)> _waiters = [];

    /// <param name="maxBatchWeight">The most a batch may weigh (rows: see <see cref="Weight"/>); one item always fits.</param>
    /// <param name="commitTimes">Where batch times are recorded: shared by writers that report as one (the group writers).</param>
    /// <param name="depth">Batches stored at once, each on its own connection (1: one at a time, commits in queue order).</param>
    protected WriteBehind(int capacity, int maxBatchWeight, TimeSpan delay, ILogger logger, LatencyHistogram? commitTimes = null, int depth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _depth = depth;
        _slots = new SemaphoreSlim(depth, depth);
        CommitTimes = commitTimes ?? new LatencyHistogram();
        _capacity = capacity;
        _maxBatchWeight = maxBatchWeight;
        _delayTicks = delay.Ticks;
        Logger = logger;
        _loop = Task.Run(RunAsync);
    }

    protected ILogger Logger { get; }

    /// <summary>The most a batch may weigh; a configuration reload may change it (read once per batch).</summary>
    public int MaxBatchWeight
    {
        get => Volatile.Read(ref _maxBatchWeight);
        set => Volatile.Write(ref _maxBatchWeight, value);
    }

    /// <summary>How long the writer waits for a batch to fill; a reload may change it.</summary>
    public TimeSpan BatchDelay
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _delayTicks));
        set => Volatile.Write(ref _delayTicks, value.Ticks);
    }

    public long Batches { get; private set; }
    public long Written { get; private set; }

    /// <summary>Items whose batch was not stored (each was answered UNAVAILABLE or INTERNAL).</summary>
    public long Failed { get; private set; }

    /// <summary>True once the writer stopped taking items (<see cref="DrainAsync"/>).</summary>
    public bool IsStopping => _stopping;

    /// <summary>Batches stored at once (1: one at a time).</summary>
    public int Depth => _depth;
    public int LargestBatch { get; private set; }
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Batches taken off the queue and not yet answered: being stored or waiting for an earlier batch (at most the depth).</summary>
    public int BatchesInFlight => Volatile.Read(ref _batchesInFlight);

    /// <summary>Items accepted and not yet answered (queued, being stored, or stored and waiting for an earlier batch).</summary>
    protected long InFlight => Math.Max(0, Interlocked.Read(ref _accepted) - Interlocked.Read(ref _done));

    /// <summary>How long each batch's write took, committed or failed (qkchat_batch_commit_seconds).</summary>
    public LatencyHistogram CommitTimes { get; }

    /// <summary>Rows an item adds to a batch.</summary>
    protected virtual int Weight(T item) => 1;

    /// <summary>Stores the batch durably and answers every item (throws if nothing was stored): a writer of depth 1.</summary>
    protected virtual Task WriteAsync(List<T> batch) => throw new NotSupportedException("a writer overrides WriteAsync, or StoreAsync and Release");

    /// <summary>
    /// Stores the batch durably (throws if nothing was stored) without answering: with a depth above 1 it runs while
    /// earlier batches are still being stored. The default stores and answers at once (<see cref="WriteAsync"/>).
    /// </summary>
    protected virtual Task StoreAsync(List<T> batch) => WriteAsync(batch);

    /// <summary>Answers every item of a stored batch; runs after every earlier batch's release, in queue order.</summary>
    protected virtual void Release(List<T> batch)
    {
    }

    /// <summary>
    /// A batch was taken off the queue (on the writer's loop, in queue order, before it is stored): its first and
    /// last items tell a subclass what is in flight (<see cref="MessageWriter"/>'s visible bound).
    /// </summary>
    protected virtual void Taken(List<T> batch)
    {
    }

    /// <summary>Answers an item of a batch that was not stored.</summary>
    protected abstract void Fail(T item, bool backendDown);

    /// <summary>Queues an item; false when the queue is full (the caller answers SERVER_BUSY) or the writer stopped.</summary>
    public bool TryEnqueue(T item)
    {
        // Full fence before reading _stopping (Dekker with DrainAsync): either this call sees the stop, or the stop
        // waits for this call's Enqueue, so no item is accepted after the loop's last look at the queue.
        Interlocked.Increment(ref _entering);
        try
        {
            if (_stopping) return false;
            if (Interlocked.Increment(ref _queued) > _capacity)
            {
                Interlocked.Decrement(ref _queued);
                return false;
            }
            Interlocked.Increment(ref _accepted);
            _queue.Enqueue(item);
            if (Interlocked.Exchange(ref _signaled, 1) == 0) _signal.Set();
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _entering);
        }
    }

    /// <summary>Completes when every item accepted before this call has been written (or has failed).</summary>
    public Task WhenWrittenAsync()
    {
        long upto = Interlocked.Read(ref _accepted);
        lock (_waiters)
        {
            if (Interlocked.Read(ref _done) >= upto) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((upto, done));
            return done.Task;
        }
    }

    private void MarkDone(int count)
    {
        long done = Interlocked.Add(ref _done, count);
        lock (_waiters)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Upto > done) continue;
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private async Task RunAsync()
    {
        // The previous batch's whole write, release included: the next batch releases after it (queue order).
        Task earlier = Task.CompletedTask;
        while (true)
        {
            await _signal.WaitAsync(); // allocation-free (WakeSignal): a sleep per batch cost a task node each
            var delay = BatchDelay;
            if (delay > TimeSpan.Zero && !_stopping) await Task.Delay(delay);
            // Cleared before draining: an item queued from here on signals again, so none is left behind.
            Volatile.Write(ref _signaled, 0);
            // An item that did not fit the last batch waits here for the next. Not TryPeek: a peek pins the queue's
            // segment (ConcurrentQueue keeps a peeked segment's slots), so every item would cost a new slot (issue 22).
            T? carried = null;
            while (carried is not null || !_queue.IsEmpty)
            {
                // A free slot first, then the batch: while every slot is busy the queue fills (group commit). A depth of
                // 1 awaits the previous batch itself, as the single writer always did: its continuation runs inline where
                // the store finished (a semaphore's waiter would resume on the pool; GroupFanOutAllocationTests relies on
                // the writer going on on the thread that completed the store).
                // An earlier write never faults (WriteBatchAsync); suppressed all the same, as a fault would end the writer.
                if (_depth == 1) await earlier.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                else await _slots.WaitAsync();
                var batch = _lists.TryTake(out var list) ? list : new List<T>();
                int weight = 0, max = MaxBatchWeight;
                while (weight < max && (carried is not null || _queue.TryDequeue(out carried)))
                {
                    var item = carried;
                    if (batch.Count > 0 && weight + Weight(item) > max) break;
                    carried = null;
                    batch.Add(item);
                    weight += Weight(item);
                }
                if (batch.Count == 0)
                {
                    if (_depth > 1) _slots.Release();
                    _lists.Add(batch);
                    continue;
                }
                Interlocked.Add(ref _queued, -batch.Count);
                Taken(batch);
                Interlocked.Increment(ref _batchesInFlight);
                earlier = WriteBatchAsync(batch, earlier);
            }
            if (_sealed && _queue.IsEmpty)
            {
                await earlier;
                return;
            }
        }
    }

    /// <summary>Stores the batch, then (after <paramref name="earlier"/>) answers it, counts it and frees its slot. Never throws.</summary>
    private async Task WriteBatchAsync(List<T> batch, Task earlier)
    {
        long started = Stopwatch.GetTimestamp();
        Exception? failure = null;
        try
        {
            await StoreAsync(batch);
        }
        catch (Exception e)
        {
            failure = e;
        }
        // The store's time alone (a failure that took long, a timeout, is latency an operator must see too), not the
        // wait for earlier batches below.
        CommitTimes.RecordSince(started);
        // It is this method, which does not fault; if it ever did, this batch and every later one must still be released.
        await earlier.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            if (failure is null)
            {
                try
                {
                    Release(batch);
                }
                catch (Exception e)
                {
                    // A subclass's defect: logged, and the batch is done all the same (the counts, its slot, later batches).
                    LogReleaseFailed(Logger, GetType().Name, batch.Count, e);
                }
                Batches++;
                Written += batch.Count;
                LargestBatch = Math.Max(LargestBatch, batch.Count);
            }
            else
            {
                Failed += batch.Count;
                bool down = failure is BackendUnavailableException;
                if (down) LogBatchUnavailable(Logger, GetType().Name, batch.Count, failure.Message);
                else LogBatchFailed(Logger, GetType().Name, batch.Count, failure);
                foreach (var item in batch) Answer(item, (this, down), static (i, s) => s.Item1.Fail(i, s.down));
            }
        }
        finally
        {
            // Whatever threw above (a logger, say): a slot or a waiter lost here would stall the writer for good.
            Interlocked.Decrement(ref _batchesInFlight);
            MarkDone(batch.Count);
            batch.Clear();
            _lists.Add(batch);
            if (_depth > 1) _slots.Release();
        }
    }

    /// <summary>Runs one item's answer; one item's failure must not cost the rest of the batch their answers.</summary>
    protected void Answer<TArg>(T item, TArg arg, Action<T, TArg> answer)
    {
        try
        {
            answer(item, arg);
        }
        catch (Exception e)
        {
            LogAnswerFailed(Logger, GetType().Name, e);
        }
    }

    /// <summary>
    /// Stops taking items (TryEnqueue answers false from now on) and stores and answers everything accepted before;
    /// completes when the writer has ended. The outcome counts the items that were waiting or being written when the
    /// stop began (the shutdown log line). A second call returns the first one's outcome.
    /// </summary>
    public Task<DrainOutcome> DrainAsync()
    {
        lock (_waiters)
        {
            return _drain ??= StopAndDrainAsync();
        }
    }

    private async Task<DrainOutcome> StopAndDrainAsync()
    {
        _stopping = true;
        Interlocked.MemoryBarrier();
        // A TryEnqueue that read _stopping before it was set finishes its Enqueue within nanoseconds.
        SpinWait.SpinUntil(() => Volatile.Read(ref _entering) == 0);
        long failedBefore = Failed, doneBefore = Interlocked.Read(ref _done);
        _sealed = true;
        _signal.Set();
        await _loop;
        return new DrainOutcome(Interlocked.Read(ref _done) - doneBefore, Failed - failedBefore);
    }

    /// <summary>Stops taking items and writes what is queued (at the latest after the connections closed).</summary>
    public async ValueTask DisposeAsync()
    {
        await DrainAsync();
        GC.SuppressFinalize(this);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Writer}: batch of {Count} not stored, MariaDB unavailable: {Error}; each gets UNAVAILABLE")]
    private static partial void LogBatchUnavailable(ILogger logger, string writer, int count, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Writer}: batch of {Count} not stored; each gets INTERNAL")]
    private static partial void LogBatchFailed(ILogger logger, string writer, int count, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Writer}: releasing a stored batch of {Count} failed; it counts as written")]
    private static partial void LogReleaseFailed(ILogger logger, string writer, int count, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Writer}: answering a stored item failed")]
    private static partial void LogAnswerFailed(ILogger logger, string writer, Exception error);
}

/// <summary>
/// What a writer's stop did: <paramref name="Drained"/> items that were waiting or being written when it began and were
/// finished before the writer ended, <paramref name="Failed"/> of them not stored (answered UNAVAILABLE or INTERNAL).
/// </summary>
public readonly record struct DrainOutcome(long Drained, long Failed);
