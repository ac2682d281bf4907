using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;

namespace QkChat.Core.Groups;

/// <summary>A group send waiting for the writer; told once whether it was stored.</summary>
public abstract class QueuedGroupEntry(NewGroupEntry entry)
{
    public NewGroupEntry Entry { get; } = entry;

    /// <summary>
    /// Its batch is durable. <paramref name="members"/>: the group's members read after the commit, for the fan-out of a
    /// stored entry (null when they could not be read: the entry is stored and answered, only its pushes are lost).
    /// </summary>
    public abstract void Stored(AppendOutcome outcome, GroupMembership? members);

    /// <summary>Its batch was not stored: <paramref name="backendDown"/> tells UNAVAILABLE from INTERNAL.</summary>
    public abstract void Failed(bool backendDown);
}

/// <summary>
/// Stores send_group_message batches through <see cref="IGroupStore.AppendAsync"/> (one transaction, one counter
/// UPDATE per group per batch), then fans out and answers each in batch order. One of <see cref="GroupWriters"/>: every
/// entry of a group comes to the same writer, so the entries of a group are pushed in seq order, and a batch is fanned
/// out before the next one of its groups is stored. Batch size and delay are message.* (the same trade-offs as
/// one-to-one sends: see MessageWriter). Each stored entry is queued for search (<see cref="GroupSearchIndexer"/>)
/// before anyone is answered, so a search after a `sent` waits for its terms.
/// </summary>
/// <param name="queueCapacity">This writer's share of message.queue_capacity (<see cref="GroupWriters"/>).</param>
/// <param name="commitTimes">The histogram all group writers record their batch times in (qkchat_batch_commit_seconds{batcher="groups"}).</param>
public sealed partial class GroupWriter(IGroupStore store, GroupMemberCache members, MessagingOptions options, int queueCapacity,
    GroupSearchIndexer indexer, ILogger logger, LatencyHistogram? commitTimes = null)
    : WriteBehind<QueuedGroupEntry>(queueCapacity, options.BatchSize, options.BatchDelay, logger, commitTimes)
{
    private readonly List<NewGroupEntry> _rows = new(options.BatchSize);
    private readonly Dictionary<long, GroupMembership> _members = [];
    private readonly HashSet<long> _stored = [];
    private long _unpushed;

    /// <summary>Entries stored and answered whose members could not be read, so nobody got their push (qkchat_group_entries_unpushed_total).</summary>
    public long Unpushed => Interlocked.Read(ref _unpushed);

    protected override async Task WriteAsync(List<QueuedGroupEntry> batch)
    {
        _rows.Clear();
        foreach (var item in batch) _rows.Add(item.Entry);
        var outcomes = await store.AppendAsync(_rows, CancellationToken.None);
        for (int i = 0; i < batch.Count; i++)
            if (outcomes[i].Result == AppendResult.Stored)
                indexer.Add(new IndexedGroupEntry(outcomes[i].MessageId, _rows[i].GroupId, outcomes[i].Seq, _rows[i].Content));

        // After the commit: the members of the groups with a stored entry, from the cache, and all the groups it misses
        // with one query (docs: GroupMemberCache). A failed read costs the pushes only; the entries are stored and
        // answered `sent`, and members catch up by seq.
        _members.Clear();
        _stored.Clear();
        for (int i = 0; i < batch.Count; i++)
            if (outcomes[i].Result == AppendResult.Stored) _stored.Add(_rows[i].GroupId);
        try
        {
            await members.MembersOfAsync(_stored, _members, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The groups answered from the cache are still pushed; the others are missing from _members.
            LogMembersUnread(Logger, _stored.Count, e.Message);
        }
        for (int i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Result == AppendResult.NotStored) LogNotStored(Logger, _rows[i].MessageId, _rows[i].GroupId, _rows[i].SenderId);
            var found = _members.GetValueOrDefault(_rows[i].GroupId); // null: not read
            if (found is null && outcomes[i].Result == AppendResult.Stored) Interlocked.Increment(ref _unpushed);
            Answer(batch[i], (outcomes[i], found), static (item, s) => item.Stored(s.Item1, s.found));
        }
    }

    protected override void Fail(QueuedGroupEntry item, bool backendDown) => item.Failed(backendDown);

    [LoggerMessage(Level = LogLevel.Error, Message = "group entry {MessageId} of user {SenderId} in group {GroupId} not stored: its id is taken " +
        "by another row (two nodes with one server.node_id?); answered INTERNAL")]
    private static partial void LogNotStored(ILogger logger, long messageId, long groupId, uint senderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "members of the {Groups} groups of a stored batch not read ({Error}): their entries are answered but not pushed")]
    private static partial void LogMembersUnread(ILogger logger, int groups, string error);
}
