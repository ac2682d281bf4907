using Microsoft.Extensions.Logging;

namespace QkChat.Core.Messaging;

/// <summary>
/// Writes search terms for what a writer stored, behind it, in batches of its own: one-to-one messages
/// (<see cref="SearchIndexer"/>) and group entries (Groups' GroupSearchIndexer) each have one. Indexing in the send
/// transaction halved chat throughput on this box (MariaDB's FULLTEXT maintenance: bench/RESULTS.md), and a
/// sender should not wait for search. search_messages waits for what was queued before it
/// (<see cref="WriteBehind{T}.WhenWrittenAsync"/>), so a user still finds every message they were told is sent.
/// Indexing yields to storing: while items wait for the writer (<paramref name="storeBacklog"/> above
/// zero) the indexer holds its batch back, up to <see cref="SearchIndexing.MaxDeferral"/>, because on a saturated box every index
/// write is taken from message throughput (with indexing in lock-step the chat benchmark fell from 24,000 to
/// 14,700 messages/s). Under a sustained overload search therefore runs behind and catches up when load falls.
/// After a crash, what was stored but not indexed is picked up at start (<see cref="CatchUpAsync"/>). A full queue
/// (the indexer far behind a long overload) or a batch given up in an outage drops terms, counted and logged once per
/// episode; the span of ids dropped is kept, and once a batch is indexed again with the queue at most half full, the
/// indexer reads what in that span is stored but unindexed back from the store and indexes it
/// (<see cref="RepairGapAsync"/>). Only a stop before that repair leaves a hole, and a start's catch-up covers only the
/// newest gap (everything above the newest indexed id).
/// </summary>
/// <param name="what">What is indexed, for the log lines ("messages", "group entries").</param>
public abstract class SearchIndexer<T>(int queueCapacity, Func<int> storeBacklog, string what, ILogger logger)
    // 2,000 rows and 100 ms: big batches cost MariaDB less per message, and search can afford to be 100 ms behind.
    : WriteBehind<T>(queueCapacity, maxBatchWeight: 2000, delay: TimeSpan.FromMilliseconds(100), logger) where T : class
{
    private readonly int _capacity = queueCapacity;
    private long _dropped;
    private int _dropping;
    private long _repaired;

    // The span of ids left out of search since the last repair (empty: from > to), and whether a repair runs.
    private readonly Lock _gapLock = new();
    private long _gapFrom = long.MaxValue, _gapTo = long.MinValue;
    private int _repairing;

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Items indexed by repairs of dropped spans (<see cref="RepairGapAsync"/>).</summary>
    public long Repaired => Interlocked.Read(ref _repaired);

    /// <summary>The completion of the repair under way, if any (for tests and the stop).</summary>
    public Task RepairTask { get; private set; } = Task.CompletedTask;

    /// <summary>Writes the terms of a batch (idempotent: indexing twice is harmless).</summary>
    protected abstract Task IndexAsync(IReadOnlyList<T> batch);

    /// <summary>Up to <paramref name="limit"/> stored items newer than the newest indexed one, oldest first.</summary>
    protected abstract Task<IReadOnlyList<T>> UnindexedAsync(int limit);

    /// <summary>Up to <paramref name="limit"/> stored, unindexed items with an id in [from, to], oldest first.</summary>
    protected abstract Task<IReadOnlyList<T>> UnindexedBetweenAsync(long fromId, long toId, int limit);

    /// <summary>The item's id, which orders the store (message ids).</summary>
    protected abstract long IdOf(T item);

    public void Add(T item)
    {
        if (TryEnqueue(item))
        {
            if (Volatile.Read(ref _dropping) == 1 && Queued < _capacity / 2 && Interlocked.Exchange(ref _dropping, 0) == 1)
                SearchIndexing.LogRecovered(Logger, what, Dropped);
            return;
        }
        Drop(item);
        if (Interlocked.Exchange(ref _dropping, 1) == 0) SearchIndexing.LogDropping(Logger, what, _capacity);
    }

    /// <summary>
    /// The indexer is done with a queued item (its terms are written, or it was left out): a pooled item lets go of
    /// the reference it took when it was added (NewMessage's ownership rule). Called once per item added.
    /// </summary>
    protected virtual void Done(T item)
    {
    }

    private void Drop(T item)
    {
        long id = IdOf(item);
        Done(item);
        Interlocked.Increment(ref _dropped);
        lock (_gapLock)
        {
            _gapFrom = Math.Min(_gapFrom, id);
            _gapTo = Math.Max(_gapTo, id);
        }
    }

    /// <summary>Waits for the terms of what was stored so far, unless the indexer is far behind (an overload).</summary>
    public Task WhenSearchableAsync() => Queued <= SearchIndexing.ReadYourWritesBacklog ? WhenWrittenAsync() : Task.CompletedTask;

    protected override async Task WriteAsync(List<T> batch)
    {
        long deferredUntil = Environment.TickCount64 + (long)SearchIndexing.MaxDeferral.TotalMilliseconds;
        while (storeBacklog() > 0 && Environment.TickCount64 < deferredUntil) await Task.Delay(20);
        // A short outage should not leave a hole in search: retry a few times before giving the batch up.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await IndexAsync(batch);
                foreach (var item in batch) Done(item);
                if (Queued <= _capacity / 2) StartRepairIfGap();
                return;
            }
            catch (BackendUnavailableException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }

    protected override void Fail(T item, bool backendDown) => Drop(item);

    private void StartRepairIfGap()
    {
        long from, to;
        lock (_gapLock)
        {
            if (_gapFrom > _gapTo || _repairing == 1) return;
            (from, to) = (_gapFrom, _gapTo);
            (_gapFrom, _gapTo, _repairing) = (long.MaxValue, long.MinValue, 1);
        }
        RepairTask = Task.Run(() => RepairGapAsync(from, to));
    }

    /// <summary>
    /// Indexes what in [<paramref name="from"/>, <paramref name="to"/>] was stored but left out of search, page by page
    /// (oldest first), yielding to the store like a batch does. A failure puts the span back for the next repair.
    /// </summary>
    private async Task RepairGapAsync(long from, long to)
    {
        long total = 0, next = from;
        try
        {
            while (next <= to)
            {
                var missing = await UnindexedBetweenAsync(next, to, RepairPage);
                if (missing.Count == 0) break;
                long deferredUntil = Environment.TickCount64 + (long)SearchIndexing.MaxDeferral.TotalMilliseconds;
                while (storeBacklog() > 0 && Environment.TickCount64 < deferredUntil) await Task.Delay(20);
                await IndexAsync(missing);
                total += missing.Count;
                Interlocked.Add(ref _repaired, missing.Count);
                next = IdOf(missing[^1]) + 1;
            }
            SearchIndexing.LogRepaired(Logger, total, what);
        }
        catch (Exception e)
        {
            lock (_gapLock)
            {
                _gapFrom = Math.Min(_gapFrom, next);
                _gapTo = Math.Max(_gapTo, to);
            }
            SearchIndexing.LogRepairFailed(Logger, what, e.Message);
        }
        finally
        {
            lock (_gapLock) _repairing = 0;
        }
    }

    /// <summary>Rows per repair page: the batch size of <see cref="SearchIndexer{T}"/> itself.</summary>
    private const int RepairPage = 2000;

    /// <summary>
    /// Indexes what a crash left between the newest indexed item and the newest stored one: the first page from
    /// <see cref="UnindexedAsync"/>, then on from past its last id, so an item that gives no terms (never indexed) is
    /// read once, not again and again.
    /// </summary>
    public async Task CatchUpAsync()
    {
        try
        {
            long total = 0;
            var missing = await UnindexedAsync(2000);
            while (missing.Count > 0)
            {
                await IndexAsync(missing);
                total += missing.Count;
                missing = await UnindexedBetweenAsync(IdOf(missing[^1]) + 1, long.MaxValue, 2000);
            }
            if (total > 0) SearchIndexing.LogCaughtUp(Logger, total, what);
        }
        catch (Exception e)
        {
            SearchIndexing.LogCatchUpFailed(Logger, what, e.Message);
        }
    }
}

/// <summary>The one-to-one messages' indexer (message_search, sql/0003_social.sql).</summary>
public sealed class SearchIndexer(IMessageStore store, int queueCapacity, Func<int> storeBacklog, ILogger logger)
    : SearchIndexer<NewMessage>(queueCapacity, storeBacklog, "messages", logger)
{
    /// <summary>See <see cref="SearchIndexing.MaxDeferral"/>.</summary>
    public static TimeSpan MaxDeferral => SearchIndexing.MaxDeferral;

    /// <summary>See <see cref="SearchIndexing.ReadYourWritesBacklog"/>.</summary>
    public const int ReadYourWritesBacklog = SearchIndexing.ReadYourWritesBacklog;

    protected override Task IndexAsync(IReadOnlyList<NewMessage> batch) => store.IndexAsync(batch, CancellationToken.None);

    protected override Task<IReadOnlyList<NewMessage>> UnindexedAsync(int limit) => store.UnindexedAsync(limit, CancellationToken.None);

    protected override Task<IReadOnlyList<NewMessage>> UnindexedBetweenAsync(long fromId, long toId, int limit) =>
        store.UnindexedBetweenAsync(fromId, toId, limit, CancellationToken.None);

    protected override long IdOf(NewMessage item) => item.MessageId;

    /// <summary>The reference MessageWriter took for the indexer (a message read back from MariaDB counts none).</summary>
    protected override void Done(NewMessage item) => item.Release();
}

/// <summary>The settings and log lines every <see cref="SearchIndexer{T}"/> shares.</summary>
public static partial class SearchIndexing
{
    /// <summary>The longest a batch waits for its writer to go idle: search is at most this far behind a
    /// steady overload, plus what the backlog takes to index.</summary>
    public static readonly TimeSpan MaxDeferral = TimeSpan.FromSeconds(5);

    /// <summary>search_messages waits for an indexer (read your writes) only up to this backlog; beyond it, during an
    /// overload, a search answers at once from what is indexed.</summary>
    public const int ReadYourWritesBacklog = 2000;

    [LoggerMessage(Level = LogLevel.Warning, Message = "search indexer queue full ({Capacity}): new {What} are stored and delivered but not searchable")]
    internal static partial void LogDropping(ILogger logger, string what, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "search indexer keeps up again; {Dropped} of its {What} in all were left out of search")]
    internal static partial void LogRecovered(ILogger logger, string what, long dropped);

    [LoggerMessage(Level = LogLevel.Information, Message = "search index repaired: {Count} {What} left out during an overload or outage were indexed")]
    internal static partial void LogRepaired(ILogger logger, long count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "search index repair of {What} failed (retried after the next indexed batch): {Error}")]
    internal static partial void LogRepairFailed(ILogger logger, string what, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "search index caught up: {Count} {What} stored before a stop were indexed")]
    internal static partial void LogCaughtUp(ILogger logger, long count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "search index catch-up of {What} failed (they stay unsearchable until the next start): {Error}")]
    internal static partial void LogCatchUpFailed(ILogger logger, string what, string error);
}
