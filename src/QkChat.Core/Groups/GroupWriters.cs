using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;

namespace QkChat.Core.Groups;

/// <summary>
/// The group writers (group.writers of them), groups sharded by id: every entry of a group goes to the same
/// <see cref="GroupWriter"/>, so per group the writer's queue order is the seq order and the push order, and idempotency
/// by (group, sender, client_msg_id) is decided by one writer. Each writer has its own batch and its own connection, so
/// while one commits, another fills and writes: a single writer was the limit of many small groups (bench/RESULTS.md,
/// "Group chat on loopback" (b): full 500-entry batches back to back, ~145 ms each, the server under one core of two).
/// Writers never touch the same group rows; the store's lock order and READ COMMITTED keep them apart in MariaDB
/// (docs/storage.md "Group entries"), and a deadlock, if one happened, is retried by the store.
/// The figures are the sums over the writers, so /metrics reads as with one writer.
/// </summary>
public sealed class GroupWriters : IAsyncDisposable
{
    private readonly GroupWriter[] _writers;

    /// <param name="count">group.writers (at least 1).</param>
    public GroupWriters(int count, IGroupStore store, GroupMemberCache members, MessagingOptions options, GroupSearchIndexer indexer, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        // message.queue_capacity is the bound for all of them together (memory held by waiting entries), split evenly;
        // a hot group's writer thus answers SERVER_BUSY at its share (50,000 of 100,000 with two writers, seconds of backlog).
        int share = Math.Max(1, (options.QueueCapacity + count - 1) / count);
        _writers = new GroupWriter[count];
        for (int i = 0; i < count; i++) _writers[i] = new GroupWriter(store, members, options, share, indexer, logger, CommitTimes);
    }

    /// <summary>The writers, by shard (for tests and the shutdown log).</summary>
    public IReadOnlyList<GroupWriter> Shards => _writers;

    /// <summary>
    /// The writer of a group. Group ids are AUTO_INCREMENT (sql/0008_chat_groups.sql), consecutive from one node, so the
    /// remainder spreads groups evenly; a group id never changes, so its writer does not either.
    /// </summary>
    public GroupWriter For(long groupId) => _writers[(int)((ulong)groupId % (ulong)_writers.Length)];

    /// <summary>Queues an entry at its group's writer; false when that writer's queue is full or the writers stopped.</summary>
    public bool TryEnqueue(QueuedGroupEntry item) => For(item.Entry.GroupId).TryEnqueue(item);

    public bool IsStopping => _writers[0].IsStopping;

    /// <summary>Every writer's batch times (qkchat_batch_commit_seconds{batcher="groups"}).</summary>
    public LatencyHistogram CommitTimes { get; } = new();

    public long Written => Sum(w => w.Written);
    public long Batches => Sum(w => w.Batches);
    public long Failed => Sum(w => w.Failed);
    public long Unpushed => Sum(w => w.Unpushed);
    public int Queued => (int)Sum(w => w.Queued);
    public int BatchesInFlight => (int)Sum(w => w.BatchesInFlight);
    public int LargestBatch => _writers.Max(w => w.LargestBatch);

    /// <summary>message.batch_size, on every writer (a reload may change it).</summary>
    public int MaxBatchWeight
    {
        get => _writers[0].MaxBatchWeight;
        set
        {
            foreach (var w in _writers) w.MaxBatchWeight = value;
        }
    }

    /// <summary>message.batch_delay_ms, on every writer.</summary>
    public TimeSpan BatchDelay
    {
        get => _writers[0].BatchDelay;
        set
        {
            foreach (var w in _writers) w.BatchDelay = value;
        }
    }

    /// <summary>Completes when every entry accepted before this call by any writer has been written (or has failed).</summary>
    public Task WhenWrittenAsync() => Task.WhenAll(_writers.Select(w => w.WhenWrittenAsync()));

    /// <summary>Stops every writer at once and drains them in parallel; the outcome is their sum.</summary>
    public async Task<DrainOutcome> DrainAsync()
    {
        var outcomes = await Task.WhenAll(_writers.Select(w => w.DrainAsync()));
        return new DrainOutcome(outcomes.Sum(o => o.Drained), outcomes.Sum(o => o.Failed));
    }

    public async ValueTask DisposeAsync()
    {
        await DrainAsync();
        foreach (var w in _writers) await w.DisposeAsync();
    }

    private long Sum(Func<GroupWriter, long> figure)
    {
        long total = 0;
        foreach (var w in _writers) total += figure(w);
        return total;
    }
}
