using Microsoft.Extensions.Logging;

namespace QkChat.Core.Messaging;

/// <summary>A message waiting for the writer; told once whether it was stored (after which the writer does not touch it).</summary>
public abstract class QueuedMessage
{
    /// <summary>Set by the subclass before queueing (a pooled one sets it at each reuse).</summary>
    public NewMessage Message { get; protected set; } = null!;

    /// <summary>Its batch is durable; the outcome says whether this message has its row (see <see cref="StoreResult"/>).</summary>
    public abstract void Stored(StoreOutcome outcome);

    /// <summary>Its batch was not stored: <paramref name="backendDown"/> tells UNAVAILABLE from INTERNAL.</summary>
    public abstract void Failed(bool backendDown);
}

/// <summary>
/// Stores send_message batches as one multi-row INSERT. One writer keeps commits in id order (a client that saw
/// message N never misses an earlier one in a sync); batches of up to 500 rows keep a statement well under
/// max_allowed_packet (500 x 4,000 chars x 4 bytes = 8 MB worst case, the 16 MB default) while amortising the
/// commit over hundreds of messages.
/// </summary>
public sealed partial class MessageWriter(IMessageStore store, MessagingOptions options, SearchIndexer indexer, ILogger logger)
    : WriteBehind<QueuedMessage>(options.QueueCapacity, options.BatchSize, options.BatchDelay, logger)
{
    private readonly List<NewMessage> _rows = new(options.BatchSize);

    protected override async Task WriteAsync(List<QueuedMessage> batch)
    {
        _rows.Clear();
        foreach (var item in batch) _rows.Add(item.Message);
        var outcomes = await store.InsertBatchAsync(_rows, CancellationToken.None);
        // Queued for search before anyone is answered, so a search after a `sent` waits for this message's terms.
        // The indexer takes its own reference to each message (NewMessage's ownership rule): the send lets go of its
        // one when answered, before the indexer has written the terms.
        for (int i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Result == StoreResult.Stored)
            {
                _rows[i].AddReference();
                indexer.Add(_rows[i]);
            }
            else if (outcomes[i].Result == StoreResult.NotStored)
                LogNotStored(Logger, _rows[i].MessageId, _rows[i].SenderId, _rows[i].HasClientMsgId);
        }
        // Answering lets go of each message: nothing here reads them after.
        _rows.Clear();
        for (int i = 0; i < batch.Count; i++) Answer(batch[i], outcomes[i], static (item, outcome) => item.Stored(outcome));
    }

    protected override void Fail(QueuedMessage item, bool backendDown) => item.Failed(backendDown);

    [LoggerMessage(Level = LogLevel.Error, Message = "message {MessageId} of user {SenderId} (client_msg_id given: {HasClientMsgId}) not stored: " +
        "its id is taken by another row (two nodes with one server.node_id?); answered INTERNAL")]
    private static partial void LogNotStored(ILogger logger, long messageId, uint senderId, bool hasClientMsgId);
}
