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

    /// <summary>Its batch is durable; the outcome says whether this message has its row (see <see cref="StoreResult"/>).</summary>
    public abstract void Stored(StoreOutcome outcome);

    /// <summary>Its batch was not stored: <paramref name="backendDown"/> tells UNAVAILABLE from INTERNAL.</summary>
    public abstract void Failed(bool backendDown);
}

/// <summary>What <see cref="MessageWriter.TryMintAndEnqueue"/> did with a message.</summary>
public enum EnqueueResult : byte
{
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
/// sync_messages reads only below <see cref="VisibleBelow"/>, the first id not yet released. A client whose cursor is
/// the largest id it saw (by push, answer or sync) thus never skips an earlier message that commits later.
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

    /// <summary>
    /// Mints the message's id and queues it in one step, so the queue holds ids in ascending order (what
    /// <see cref="VisibleBelow"/> and the ordered release rest on). Nothing is queued unless Queued is returned.
    /// </summary>
    public EnqueueResult TryMintAndEnqueue(QueuedMessage item)
    {
        lock (_mint)
        {
            if (!ids.TryNext(out long id)) return EnqueueResult.IdsLapsed;
            var message = item.Message;
            message.MessageId = id;
            message.Timestamp = MessageIds.TimestampOf(id);
            if (!TryEnqueue(item)) return EnqueueResult.Busy; // its id goes unused: ids need not be dense
            Volatile.Write(ref _lastQueued, id);
            return EnqueueResult.Queued;
        }
    }

    /// <summary>
    /// An exclusive bound for readers that page by id (sync_messages): every message of this node with a smaller id has
    /// been released (answered and pushed) or will never be stored, so a reader bounded by it never sees a message
    /// while an earlier one is still to come. With nothing in flight it is a fresh mark, above every id minted so far.
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
        long last = batch[^1].Message.MessageId;
        // Queued for search before anyone is answered, so a search after a `sent` waits for this message's terms.
        // The indexer takes its own reference to each message (NewMessage's ownership rule): the send lets go of its
        // one when answered, before the indexer has written the terms.
        foreach (var item in batch)
        {
            var m = item.Message;
            if (item.Outcome.Result == StoreResult.Stored)
            {
                m.AddReference();
                indexer.Add(m);
            }
            else if (item.Outcome.Result == StoreResult.NotStored)
                LogNotStored(Logger, m.MessageId, m.SenderId, m.HasClientMsgId);
        }
        // Answering lets go of each message: nothing here reads them after.
        foreach (var item in batch) Answer(item, item.Outcome, static (i, outcome) => i.Stored(outcome));
        Volatile.Write(ref _releasedThrough, last);
    }

    protected override void Fail(QueuedMessage item, bool backendDown)
    {
        // Failed items are told in queue order too: nothing of theirs is stored, so readers may pass them.
        long id = item.Message.MessageId;
        item.Failed(backendDown);
        Volatile.Write(ref _releasedThrough, id);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "message {MessageId} of user {SenderId} (client_msg_id given: {HasClientMsgId}) not stored: " +
        "its id is taken by another row (two nodes with one server.node_id?); answered INTERNAL")]
    private static partial void LogNotStored(ILogger logger, long messageId, uint senderId, bool hasClientMsgId);
}
