using Microsoft.Extensions.Logging;

namespace QkChat.Core.Messaging;

/// <summary>
/// Writes search terms for stored messages behind the message writer, in batches of its own. Indexing in the send
/// transaction halved chat throughput on this box (MariaDB's FULLTEXT maintenance: bench/RESULTS.md), and a
/// sender should not wait for search. search_messages waits for what was queued before it
/// (<see cref="WriteBehind{T}.WhenWrittenAsync"/>), so a user still finds every message they were told is sent.
/// Indexing yields to storing: while messages wait for the message writer (<paramref name="storeBacklog"/> above
/// zero) the indexer holds its batch back, up to <see cref="MaxDeferral"/>, because on a saturated box every index
/// write is taken from message throughput (with indexing in lock-step the chat benchmark fell from 24,000 to
/// 14,700 messages/s). Under a sustained overload search therefore runs behind and catches up when load falls.
/// After a crash, what was stored but not indexed is picked up at start (<see cref="CatchUpAsync"/>). A full queue
/// (the indexer far behind a long overload) drops terms, counted and logged once per episode: those messages stay
/// stored and deliverable, but unsearchable until a restart's catch-up, which only covers the newest gap.
/// </summary>
public sealed partial class SearchIndexer(IMessageStore store, int queueCapacity, Func<int> storeBacklog, ILogger logger)
    // 2,000 rows and 100 ms: big batches cost MariaDB less per message, and search can afford to be 100 ms behind.
    : WriteBehind<NewMessage>(queueCapacity, maxBatchWeight: 2000, delay: TimeSpan.FromMilliseconds(100), logger)
{
    /// <summary>The longest a batch waits for the message writer to go idle: search is at most this far behind a
    /// steady overload, plus what the backlog takes to index.</summary>
    public static readonly TimeSpan MaxDeferral = TimeSpan.FromSeconds(5);

    /// <summary>search_messages waits for the indexer (read your writes) only up to this backlog; beyond it, during an
    /// overload, a search answers at once from what is indexed.</summary>
    public const int ReadYourWritesBacklog = 2000;

    private readonly int _capacity = queueCapacity;
    private long _dropped;
    private int _dropping;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Add(NewMessage message)
    {
        if (TryEnqueue(message))
        {
            if (Volatile.Read(ref _dropping) == 1 && Queued < _capacity / 2 && Interlocked.Exchange(ref _dropping, 0) == 1)
                LogRecovered(Logger, Dropped);
            return;
        }
        Interlocked.Increment(ref _dropped);
        if (Interlocked.Exchange(ref _dropping, 1) == 0) LogDropping(Logger, _capacity);
    }

    /// <summary>Waits for the terms of what was stored so far, unless the indexer is far behind (an overload).</summary>
    public Task WhenSearchableAsync() => Queued <= ReadYourWritesBacklog ? WhenWrittenAsync() : Task.CompletedTask;

    protected override async Task WriteAsync(List<NewMessage> batch)
    {
        long deferredUntil = Environment.TickCount64 + (long)MaxDeferral.TotalMilliseconds;
        while (storeBacklog() > 0 && Environment.TickCount64 < deferredUntil) await Task.Delay(20);
        // A short outage should not leave a hole in search: retry a few times before giving the batch up.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await store.IndexAsync(batch, CancellationToken.None);
                return;
            }
            catch (BackendUnavailableException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }

    protected override void Fail(NewMessage item, bool backendDown) => Interlocked.Increment(ref _dropped);

    /// <summary>Indexes what a crash left between the newest indexed message and the newest stored one.</summary>
    public async Task CatchUpAsync()
    {
        try
        {
            long total = 0;
            while (true)
            {
                var missing = await store.UnindexedAsync(2000, CancellationToken.None);
                if (missing.Count == 0) break;
                await store.IndexAsync(missing, CancellationToken.None);
                total += missing.Count;
            }
            if (total > 0) LogCaughtUp(Logger, total);
        }
        catch (Exception e)
        {
            LogCatchUpFailed(Logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "search indexer queue full ({Capacity}): new messages are stored and delivered but not searchable")]
    private static partial void LogDropping(ILogger logger, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "search indexer keeps up again; {Dropped} message(s) in all were left out of search")]
    private static partial void LogRecovered(ILogger logger, long dropped);

    [LoggerMessage(Level = LogLevel.Information, Message = "search index caught up: {Count} message(s) stored before a stop were indexed")]
    private static partial void LogCaughtUp(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "search index catch-up failed (messages stay unsearchable until the next start): {Error}")]
    private static partial void LogCatchUpFailed(ILogger logger, string error);
}
