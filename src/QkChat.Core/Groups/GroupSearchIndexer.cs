using Microsoft.Extensions.Logging;
using QkChat.Core.Messaging;

namespace QkChat.Core.Groups;

/// <summary>
/// Writes the search terms of stored group `text` entries (chat_group_search, sql/0009_group_search.sql) behind the
/// <see cref="GroupWriter"/>, exactly as <see cref="SearchIndexer"/> does for one-to-one messages: the writer queues each
/// stored entry before it answers, search_messages waits for what was queued before it, the indexer yields while
/// sends wait for the group writer (<paramref name="storeBacklog"/>), and a start indexes what a crash left unindexed.
/// A send's answer never waits for indexing.
/// </summary>
public sealed class GroupSearchIndexer(IGroupStore store, int queueCapacity, Func<int> storeBacklog, ILogger logger)
    : SearchIndexer<IndexedGroupEntry>(queueCapacity, storeBacklog, "group entries", logger)
{
    protected override Task IndexAsync(IReadOnlyList<IndexedGroupEntry> batch) => store.IndexAsync(batch, CancellationToken.None);

    protected override Task<IReadOnlyList<IndexedGroupEntry>> UnindexedAsync(int limit) => store.UnindexedAsync(limit, CancellationToken.None);

    protected override Task<IReadOnlyList<IndexedGroupEntry>> UnindexedBetweenAsync(long fromId, long toId, int limit) =>
        store.UnindexedBetweenAsync(fromId, toId, limit, CancellationToken.None);

    protected override long IdOf(IndexedGroupEntry item) => item.MessageId;

    /// <summary>
    /// How far below the newest indexed id the start's catch-up looks for unindexed entries. The group writers
    /// (group.writers) queue entries here in their own commit orders, so at a crash one writer's committed, not yet
    /// indexed batch can lie below another's indexed, newer ids, by up to the time an entry waits in its writer's
    /// queue. 60 s: six times the slowest answers measured under overload (bench/RESULTS.md (b): send p99 9.5 s, the
    /// clients' 10 s timeout). Costs the start one scan of a minute of entries against the index's primary key.
    /// </summary>
    public static readonly TimeSpan CatchUpLookback = TimeSpan.FromSeconds(60);
}
