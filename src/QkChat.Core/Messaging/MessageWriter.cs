using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace QkChat.Core.Messaging;

/// <summary>A message waiting for the writer; told once whether it was stored (after which the writer does not touch it).</summary>
public abstract class QueuedMessage
{
    /// <summary>Set by the subclass before queueing (a pooled one sets it at each reuse).</summary>
    public NewMessage Message { get; protected set; } = null!;

    /// <summary>What its batch's store found for it, kept here between the store and the batch's turn to answer.</summary>
    internal StoreOutcome Outcome;

    /// <summary>
    /// Retries of this send (same sender, same client_msg_id) that came while it was in flight, chained: each is
    /// answered with this one's outcome when this one is (<see cref="MessageWriter.TryMintAndEnqueue"/>). Under the
    /// writer's mint lock until the writer answers this send.
    /// </summary>
    internal QueuedMessage? JoinedRetry;

    /// <summary>Its batch is durable; the outcome says whether this message has its row (see <see cref="StoreResult"/>).</summary>
    public abstract void Stored(StoreOutcome outcome);

    /// <summary>Its batch was not stored: <paramref name="backendDown"/> tells UNAVAILABLE from INTERNAL.</summary>
    public abstract void Failed(bool backendDown);
}

/// <summary>What <see cref="MessageWriter.TryMintAndEnqueue"/> did with a message.</summary>
public enum EnqueueResult : byte
{
    /// <summary>Queued, or joined to the same send still in flight (a retry): it will be answered either way.</summary>
    Queued,

    /// <summary>The queue is full or the writer stopped (SERVER_BUSY).</summary>
    Busy,

    /// <summary>The node's id lease has lapsed: no id, nothing queued (UNAVAILABLE).</summary>
    IdsLapsed,
}

/// <summary>
/// Stores send_message batches as multi-row INSERTs, up to message.writers batches at once, each in its own
/// transaction on its own connection: a batch no longer waits for the previous batch's fsync (issue 22). Batches of up
/// to 500 rows keep a statement well under max_allowed_packet (500 x 4,000 chars x 4 bytes = 8 MB worst case, the
/// 16 MB default) while amortising the commit over hundreds of messages.
/// <para>
/// Order, with batches committing in any order (docs/messaging.md "Order and catch-up"): ids are minted as a message
/// is queued, under one lock with the enqueue, so queue order is id order; batches are released (indexed, answered
/// `sent`, pushed) in queue order, each after every earlier batch, so pushes and answers go out in id order; and
/// the reads that page by id read only below <see cref="VisibleBelow"/>, the first id not yet released. A client whose
/// cursor is the largest id it saw (by push, answer or read) thus never skips an earlier message that commits later.
/// </para>
/// <para>
/// A retry of a send still in flight (same sender and client_msg_id) joins it rather than taking an id and a batch of
/// its own: in another batch it would wait on the first one's row lock, holding a writer (and, after the first
/// committed, be answered its id anyway), or commit first and make the first a repeat of a later id.
/// </para>
/// </summary>
public sealed partial class MessageWriter(IMessageStore store, MessagingOptions options, SearchIndexer indexer, MessageIds ids, ILogger logger)
    : WriteBehind<QueuedMessage>(options.QueueCapacity, options.BatchSize, options.BatchDelay, logger, depth: options.Writers)
{
    private readonly Lock _mint = new();
    // The last id queued (under _mint) and the last id released (by the batch in its turn, or failed): a message is in
    // flight while its id is above _releasedThrough, and every id up to _releasedThrough is released or never stored.
    private long _lastQueued, _releasedThrough;
    // Row lists for the batches being stored (one per slot, reused).
    private readonly ConcurrentBag<List<NewMessage>> _rowLists = [];
    // Sends with a client_msg_id in flight (queued, being stored, or stored and waiting for their turn), by sender and a
    // 32-bit hash of the id's bytes (no string per send); under _mint. One entry per (sender, hash): when two different
    // client_msg_ids of one sender collide (rare), the second finds the first's entry, its bytes differ (TryJoin), so it
    // is minted and queued as a send of its own, and its entry is not kept; a retry of it while the first is in flight
    // is queued again too, not joined, and MariaDB's unique key (sender, client_msg_id) answers it the stored id
    // (Duplicate), as for any retry after a release. Retries of the first still join it
    // (MessageWriterOrderTests.Two_keys_of_one_sender_with_the_same_hash_...).
    private readonly Dictionary<(uint Sender, int KeyHash), QueuedMessage> _keysInFlight = [];
    private long _retriesJoined;

    /// <summary>Retries answered with the outcome of the same send in flight (qkchat_messages_retries_joined_total).</summary>
    public long RetriesJoined => Interlocked.Read(ref _retriesJoined);

    /// <summary>Messages minted and not yet released: queued, being stored, or stored and waiting for an earlier batch (qkchat_messages_unreleased).</summary>
    public long Unreleased => InFlight;

    /// <summary>
    /// Mints the message's id and queues it in one step, so the queue holds ids in ascending order (what
    /// <see cref="VisibleBelow"/> and the ordered release rest on); or, for a retry of a send still in flight (same
    /// sender and client_msg_id), joins it: no id, no row, answered with the first send's outcome. Nothing is queued
    /// unless Queued is returned.
    /// </summary>
    public EnqueueResult TryMintAndEnqueue(QueuedMessage item)
    {
        var message = item.Message;
        int keyHash = message.HasClientMsgId ? KeyHash(message) : 0;
        lock (_mint)
        {
            if (message.HasClientMsgId && TryJoin(item, keyHash)) return EnqueueResult.Queued;
            if (!ids.TryNext(out long id)) return EnqueueResult.IdsLapsed;
            message.MessageId = id;
            message.Timestamp = MessageIds.TimestampOf(id);
            if (!TryEnqueue(item)) return EnqueueResult.Busy; // its id goes unused: ids need not be dense
            if (message.HasClientMsgId) _keysInFlight.TryAdd((message.SenderId, keyHash), item);
            // Nothing was in flight before this one: every id below it is released or was never stored (marks, sends
            // that found the queue full, group entries), so the watermark may stand right below it rather than after the
            // last release, which may be an hour ago. On several nodes this is the floor the other nodes' readers wait
            // for (ReadMark, docs/cluster.md "Read marks"): one send after a quiet spell would otherwise hide the whole
            // cluster's messages of that spell while it is stored. (A release of this send that already ran wrote a
            // larger value: kept.)
            if (Volatile.Read(ref _releasedThrough) >= _lastQueued) AdvanceReleased(id - 1);
            Volatile.Write(ref _lastQueued, id);
            return EnqueueResult.Queued;
        }
    }

    /// <summary>Raises _releasedThrough to <paramref name="id"/> unless it is already there.</summary>
    private void AdvanceReleased(long id)
    {
        while (true)
        {
            long current = Volatile.Read(ref _releasedThrough);
            if (current >= id || Interlocked.CompareExchange(ref _releasedThrough, id, current) == current) return;
        }
    }

    /// <summary>Under _mint: chains <paramref name="retry"/> to the same send in flight, if there is one.</summary>
    private bool TryJoin(QueuedMessage retry, int keyHash)
    {
        // A stopping writer answers SERVER_BUSY like any new send (the first one is still answered by the drain).
        if (IsStopping || !_keysInFlight.TryGetValue((retry.Message.SenderId, keyHash), out var first)) return false;
        // Byte for byte, like the column's utf8mb4_nopad_bin (migration 0007).
        if (!first.Message.ClientMsgId.Span.SequenceEqual(retry.Message.ClientMsgId.Span)) return false;
        retry.JoinedRetry = first.JoinedRetry;
        first.JoinedRetry = retry;
        Interlocked.Increment(ref _retriesJoined);
        return true;
    }

    private static int KeyHash(NewMessage message)
    {
        var hash = new HashCode();
        hash.AddBytes(message.ClientMsgId.Span);
        return hash.ToHashCode();
    }

    /// <summary>
    /// An exclusive bound for readers that page by id (sync_messages, the offline queue, get_chat_history): every
    /// message of this node with a smaller id has been released (answered and pushed) or will never be stored, so a
    /// reader bounded by it never sees a message while an earlier one is still to come. With nothing in flight it is a
    /// fresh mark, above every id minted so far.
    /// </summary>
    public long VisibleBelow()
    {
        long mark, queued;
        lock (_mint)
        {
            // Under the lock no id is between its minting and its enqueue: every queued id below the mark is in _lastQueued.
            mark = ids.Mark();
            queued = _lastQueued;
        }
        long released = Volatile.Read(ref _releasedThrough);
        return released >= queued ? mark : released + 1;
    }

    /// <summary>
    /// What this node publishes for the other nodes' readers (docs/cluster.md "Read marks"), taken in one step:
    /// <c>Floor</c>, the first id not yet released while a message is in flight (0 when nothing is: an idle node holds
    /// no reader back), and <c>Mark</c>, a fresh mark above every id minted so far, so every id this node mints later
    /// is at least <c>Mark</c>.
    /// </summary>
    public (long Floor, long Mark) ReadMark()
    {
        long mark, queued;
        lock (_mint)
        {
            mark = ids.Mark();
            queued = _lastQueued;
        }
        long released = Volatile.Read(ref _releasedThrough);
        return (released >= queued ? 0 : released + 1, mark);
    }

    protected override async Task StoreAsync(List<QueuedMessage> batch)
    {
        var rows = _rowLists.TryTake(out var list) ? list : new List<NewMessage>(options.BatchSize);
        try
        {
            foreach (var item in batch) rows.Add(item.Message);
            var outcomes = await store.InsertBatchAsync(rows, CancellationToken.None);
            for (int i = 0; i < batch.Count; i++) batch[i].Outcome = outcomes[i];
        }
        finally
        {
            rows.Clear();
            _rowLists.Add(rows);
        }
    }

    protected override void Release(List<QueuedMessage> batch)
    {
        // Its turn: every earlier batch is released, so the watermark passes this one before its pushes. Written after
        // them, a device that registered (logged in) just after one of its pushes and then read (sync, offline queue)
        // below the old mark would get that message neither live nor in the read. A reader may now see one of these
        // messages a moment before its push: the same id twice, never a gap.
        Volatile.Write(ref _releasedThrough, batch[^1].Message.MessageId);
        // From here on no retry joins these sends: a retry that comes after is stored and finds their rows.
        ForgetKeys(batch);
        // Queued for search before anyone is answered, so a search after a `sent` waits for this message's terms.
        // The indexer takes its own reference to each message (NewMessage's ownership rule): the send lets go of its
        // one when answered, before the indexer has written the terms.
        foreach (var item in batch) IndexOrLog(item);
        // Answering lets go of each message: nothing here reads them after.
        foreach (var item in batch)
        {
            var outcome = item.Outcome;
            var retries = item.JoinedRetry;
            item.JoinedRetry = null;
            Answer(item, outcome, static (i, o) => i.Stored(o));
            // The first send's row is the retries' too: a stored one makes them repeats of it (nothing pushed twice).
            var repeat = outcome.Result == StoreResult.Stored ? outcome with { Result = StoreResult.Duplicate } : outcome;
            for (var retry = retries; retry is not null;)
            {
                var next = TakeNext(retry); // before its answer: answered, a pooled send is rented again at once
                Answer(retry, repeat, static (r, o) => r.Stored(o));
                retry = next;
            }
        }
    }

    /// <summary>Indexes a stored message or logs one not stored; a failure here must not cost any send its answer.</summary>
    private void IndexOrLog(QueuedMessage item)
    {
        var m = item.Message;
        try
        {
            if (item.Outcome.Result == StoreResult.Stored)
            {
                m.AddReference();
                indexer.Add(m);
            }
            else if (item.Outcome.Result == StoreResult.NotStored)
                LogNotStored(Logger, m.MessageId, m.SenderId, m.HasClientMsgId);
        }
        catch (Exception e)
        {
            LogReleaseStepFailed(Logger, m.MessageId, e);
        }
    }

    protected override void Fail(QueuedMessage item, bool backendDown)
    {
        // Failed items are told in queue order too: nothing of theirs is stored, so readers may pass them.
        Volatile.Write(ref _releasedThrough, item.Message.MessageId);
        if (item.Message.HasClientMsgId) ForgetKeys([item]);
        var retries = item.JoinedRetry;
        item.JoinedRetry = null;
        Answer(item, backendDown, static (i, down) => i.Failed(down));
        for (var retry = retries; retry is not null;)
        {
            var next = TakeNext(retry);
            Answer(retry, backendDown, static (r, down) => r.Failed(down));
            retry = next;
        }
    }

    /// <summary>The retry after <paramref name="retry"/>, which it unchains (to be done before its answer).</summary>
    private static QueuedMessage? TakeNext(QueuedMessage retry)
    {
        var next = retry.JoinedRetry;
        retry.JoinedRetry = null;
        return next;
    }

    private void ForgetKeys(List<QueuedMessage> batch)
    {
        lock (_mint)
        {
            if (_keysInFlight.Count == 0) return;
            foreach (var item in batch)
            {
                var m = item.Message;
                if (!m.HasClientMsgId) continue;
                var key = (m.SenderId, KeyHash(m));
                if (_keysInFlight.TryGetValue(key, out var entry) && ReferenceEquals(entry, item)) _keysInFlight.Remove(key);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "message {MessageId} of user {SenderId} (client_msg_id given: {HasClientMsgId}) not stored: " +
        "its id is taken by another row (two nodes with one server.node_id?); answered INTERNAL")]
    private static partial void LogNotStored(ILogger logger, long messageId, uint senderId, bool hasClientMsgId);

    [LoggerMessage(Level = LogLevel.Error, Message = "message {MessageId}: indexing or logging it at its release failed; its send is answered all the same")]
    private static partial void LogReleaseStepFailed(ILogger logger, long messageId, Exception error);
}
