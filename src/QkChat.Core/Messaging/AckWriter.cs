using Microsoft.Extensions.Logging;

namespace QkChat.Core.Messaging;

/// <summary>A message_ack waiting for the writer.</summary>
public abstract class QueuedAck(DeliveryAck ack)
{
    public DeliveryAck Ack { get; } = ack;

    /// <summary>Stored: <paramref name="changes"/> are the messages of this ack that became delivered.</summary>
    public abstract void Stored(List<StatusChange> changes);

    public abstract void Failed(bool backendDown);
}

/// <summary>
/// Stores message_acks in batches: every receiver acks what it gets, so at full chat speed acks are as many as
/// messages, and one transaction per ack would cost a commit per message. A batch is one locking SELECT and one
/// UPDATE by primary key for all of them. 2,000 ids per batch keep both statements' parameter lists small.
/// </summary>
public sealed class AckWriter(IMessageStore store, MessagingOptions options, ILogger logger)
    : WriteBehind<QueuedAck>(options.QueueCapacity, maxBatchWeight: 2000, options.BatchDelay, logger)
{
    private readonly List<DeliveryAck> _acks = [];

    protected override int Weight(QueuedAck item) => item.Ack.MessageIds.Length;

    protected override async Task WriteAsync(List<QueuedAck> batch)
    {
        _acks.Clear();
        foreach (var item in batch) _acks.Add(item.Ack);
        var changes = await store.MarkDeliveredAsync(_acks, CancellationToken.None);
        // Each change goes to the first ack of its receiver that named it (two devices acking one id: the first).
        var byReceiver = changes.ToLookup(c => c.ReceiverId);
        var told = new HashSet<long>();
        foreach (var item in batch)
        {
            var mine = new List<StatusChange>();
            foreach (var change in byReceiver[item.Ack.ReceiverId])
                if (Array.IndexOf(item.Ack.MessageIds, change.MessageId) >= 0 && told.Add(change.MessageId)) mine.Add(change);
            Answer(item, mine, static (i, changes) => i.Stored(changes));
        }
    }

    protected override void Fail(QueuedAck item, bool backendDown) => item.Failed(backendDown);
}
