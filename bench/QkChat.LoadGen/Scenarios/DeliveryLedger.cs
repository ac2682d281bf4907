namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// One direction of a pair (messages to one receiving connection): which messages the server accepted (`sent`) and
/// which `message` pushes arrived, by message_id. The push may come before the sender reads its `sent` (the server
/// pushes as soon as the batch is stored), so either side may be first. At the end, what is still awaited was
/// acknowledged as sent but never delivered: a loss. An id pushed twice is a duplicate.
/// </summary>
public sealed class DeliveryLedger
{
    private readonly Lock _lock = new();
    private readonly HashSet<long> _awaiting = [];   // `sent` seen, push not yet
    private readonly HashSet<long> _early = [];      // push seen, `sent` not yet (or never: the send failed after storing)
    private readonly HashSet<long> _seen = [];       // every id pushed to this connection: duplicates are exact
    private long _last, _delivered, _duplicates, _outOfOrder;

    public long Delivered { get { lock (_lock) return _delivered; } }
    public long Duplicates { get { lock (_lock) return _duplicates; } }

    /// <summary>Pushes with a lower id than an earlier push: message ids increase within a conversation, so this is
    /// delivery out of send order. Reported, not failed: protocol.md promises increasing ids, not push order.</summary>
    public long OutOfOrder { get { lock (_lock) return _outOfOrder; } }

    /// <summary>Sent and not (yet) delivered; at the run's end, the losses.</summary>
    public int Awaiting { get { lock (_lock) return _awaiting.Count; } }

    /// <summary>Delivered without a `sent` seen by the sender (its response failed or timed out).</summary>
    public int Unconfirmed { get { lock (_lock) return _early.Count; } }

    /// <summary>The sender read `sent` with this id.</summary>
    public void Sent(long messageId)
    {
        lock (_lock)
        {
            if (!_early.Remove(messageId)) _awaiting.Add(messageId);
        }
    }

    /// <summary>A push with this id reached the receiver; false if it had come before (a duplicate).</summary>
    public bool Arrived(long messageId)
    {
        lock (_lock)
        {
            if (!_seen.Add(messageId))
            {
                _duplicates++;
                return false;
            }
            if (messageId < _last) _outOfOrder++;
            else _last = messageId;
            _delivered++;
            if (!_awaiting.Remove(messageId)) _early.Add(messageId);
            return true;
        }
    }
}
