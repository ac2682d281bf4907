namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// Messages to one receiving connection: which the server accepted (`sent`) and which `message` pushes arrived, by
/// message_id. The push may come before the sender reads its `sent` (the server pushes as soon as the batch is
/// stored), so either side may be first. At the end, what is still awaited was acknowledged as sent but never
/// delivered. At the end (<see cref="Seal"/>) the receiver reads what it still awaits with sync_messages: each id the
/// server returns then is late (<see cref="LateFound"/>), and only what stays awaited is a loss. An id pushed twice is
/// a duplicate; one pushed after a higher id from the same sender is out of order (<see cref="OrderCheck"/>).
/// </summary>
public sealed class DeliveryLedger
{
    private readonly Lock _lock = new();
    private readonly HashSet<long> _awaiting = [];   // `sent` seen, push not yet
    private readonly HashSet<long> _early = [];      // push seen, `sent` not yet (or never: the send failed after storing)
    private readonly HashSet<long> _seen = [];       // every id pushed to this connection: duplicates are exact
    private readonly OrderCheck _order = new();
    private long _delivered, _duplicates, _lastArrived, _late;
    private bool _sealed;

    public long Delivered { get { lock (_lock) return _delivered; } }
    public long Duplicates { get { lock (_lock) return _duplicates; } }

    /// <summary>Pushes with a lower id than an earlier push from the same sender: message ids increase within a
    /// conversation, so this is delivery out of send order, which fails the run.</summary>
    public long OutOfOrder { get { lock (_lock) return _order.OutOfOrder; } }

    /// <summary>The highest message id pushed here so far (0: none): what mark_read may mark up to.</summary>
    public long LastArrived { get { lock (_lock) return _lastArrived; } }

    /// <summary>Sent and not (yet) delivered; at the run's end, after the sync, the losses.</summary>
    public int Awaiting { get { lock (_lock) return _awaiting.Count; } }

    /// <summary>Never pushed by the end, but read with sync_messages after <see cref="Seal"/>: stored, not lost.</summary>
    public long Late { get { lock (_lock) return _late; } }

    /// <summary>The smallest and the largest id still awaited (0: none): the end-of-run sync reads from just below the
    /// first until it has passed the last.</summary>
    public long FirstMissing { get { lock (_lock) return _awaiting.Count == 0 ? 0 : _awaiting.Min(); } }
    public long LastMissing { get { lock (_lock) return _awaiting.Count == 0 ? 0 : _awaiting.Max(); } }

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

    /// <summary>A push with this id from <paramref name="senderId"/> reached the receiver; false if it had come
    /// before (a duplicate).</summary>
    public bool Arrived(long messageId, long senderId = 0)
    {
        lock (_lock)
        {
            if (_sealed) return false;
            if (!_seen.Add(messageId))
            {
                _duplicates++;
                return false;
            }
            _order.Arrived(senderId, messageId);
            _lastArrived = Math.Max(_lastArrived, messageId);
            _delivered++;
            if (!_awaiting.Remove(messageId)) _early.Add(messageId);
            return true;
        }
    }

    /// <summary>The end: pushes from now on are not counted (the receiver is about to read what it misses with
    /// sync_messages, and a push racing that read must count neither as a delivery nor as a duplicate of it).</summary>
    public void Seal()
    {
        lock (_lock) _sealed = true;
    }

    /// <summary>After <see cref="Seal"/>: an id the end-of-run sync returned. True if this connection awaited it (it
    /// is then late); false for anything else the sync returns (delivered before, read twice, not sent to here).</summary>
    public bool LateFound(long messageId)
    {
        lock (_lock)
        {
            if (!_awaiting.Remove(messageId)) return false;
            _late++;
            return true;
        }
    }
}

/// <summary>
/// In-order delivery per sender: protocol.md §2 has message ids increase within a conversation, and a client shows
/// messages in push order, so a push whose id is below one already pushed from the same sender arrived out of order.
/// Duplicates are the ledger's business and never reach this. Not thread-safe: the ledger locks around it.
/// </summary>
public sealed class OrderCheck
{
    private readonly Dictionary<long, long> _lastBySender = [];

    public long OutOfOrder { get; private set; }

    /// <summary>Records a first push; false when it came after a higher id from the same sender.</summary>
    public bool Arrived(long senderId, long messageId)
    {
        if (_lastBySender.TryGetValue(senderId, out long last) && messageId < last)
        {
            OutOfOrder++;
            return false;
        }
        _lastBySender[senderId] = messageId;
        return true;
    }
}
