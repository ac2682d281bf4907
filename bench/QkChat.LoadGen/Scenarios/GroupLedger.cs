namespace QkChat.LoadGen.Scenarios;

/// <summary>What <see cref="GroupLedger.Pushed"/> made of a `group_message` push.</summary>
public enum GroupPush
{
    /// <summary>The first time this member holds the entry: a delivery (possibly out of order).</summary>
    Delivered,

    /// <summary>The member already held it (pushed before, or its own send).</summary>
    Duplicate,

    /// <summary>Not this run's to count: at or below the seq the timeline had when sending began (the group's setup
    /// entries), or before the ledger started.</summary>
    Ignored,
}

/// <summary>
/// One member's view of its group's timeline (protocol.md §9: every entry gets the next seq, every member sees the
/// timeline in seq order). Sending starts once the group is set up at seq <c>base</c>; from then on the member must
/// hold every seq above it exactly once: pushed to it, or sent by it (the sending connection gets no push of its own
/// entry). A bit per seq records what it holds. A seq held twice is a duplicate; a push below the highest seq pushed
/// before is out of order (a late fill of a gap counts here, and as delivered); a seq never held by the end, up to the
/// group's max_seq, is lost (<see cref="MissingUpTo"/>), unless the member reads it with sync_group_messages at the end
/// (<see cref="Seal"/>, then <see cref="LateFound"/>): then it was stored but not pushed by the end, late rather than
/// lost. Thread-safe: the receive loop and the send answers both write.
/// </summary>
public sealed class GroupLedger
{
    /// <summary>Entries one ledger tracks above its base: 2^24 (16.7 M, 2 MiB of bits) is past any run's worth of
    /// entries in one group (50,000/s for 5 minutes is 15 M); a seq further out is a broken push and only counted.</summary>
    public const long MaxTracked = 1 << 24;

    private readonly Lock _lock = new();
    private ulong[] _held = new ulong[2];
    private long _base = -1, _lastPushed, _highest;
    private long _delivered, _duplicates, _outOfOrder, _own, _beyond, _late;
    private bool _sealed, _syncUnfinished;

    public bool Started { get { lock (_lock) return _base >= 0; } }
    public long Delivered { get { lock (_lock) return _delivered; } }
    public long Duplicates { get { lock (_lock) return _duplicates; } }
    public long OutOfOrder { get { lock (_lock) return _outOfOrder; } }

    /// <summary>Own entries, answered `sent` on this connection.</summary>
    public long Own { get { lock (_lock) return _own; } }

    /// <summary>Entries of others this member was never pushed by the end but read with sync_group_messages.</summary>
    public long Late { get { lock (_lock) return _late; } }

    /// <summary>Seqs more than <see cref="MaxTracked"/> above the base: never sent by this run.</summary>
    public long Beyond { get { lock (_lock) return _beyond; } }

    /// <summary>The highest seq held (pushed or own), or the base.</summary>
    public long Highest { get { lock (_lock) return Math.Max(_highest, _base); } }

    /// <summary>Sending begins: the timeline stood at <paramref name="baseSeq"/>.</summary>
    public void Start(long baseSeq)
    {
        lock (_lock)
        {
            _base = baseSeq;
            _lastPushed = _highest = baseSeq;
        }
    }

    /// <summary>A `group_message` push of <paramref name="seq"/> reached this member.</summary>
    public GroupPush Pushed(long seq)
    {
        lock (_lock)
        {
            if (_base < 0 || seq <= _base || _sealed) return GroupPush.Ignored;
            if (seq - _base > MaxTracked)
            {
                _beyond++;
                return GroupPush.Ignored;
            }
            if (!Hold(seq))
            {
                _duplicates++;
                return GroupPush.Duplicate;
            }
            _delivered++;
            if (seq < _lastPushed) _outOfOrder++;
            else _lastPushed = seq;
            return GroupPush.Delivered;
        }
    }

    /// <summary>This member's own send was answered `sent` with <paramref name="seq"/> (or found its own at the end,
    /// <see cref="Claim"/>): held, never pushed to it. Not order-checked: the answer and the other senders' pushes
    /// travel independently.</summary>
    public void Sent(long seq)
    {
        lock (_lock)
        {
            if (_base < 0 || seq <= _base) return;
            if (seq - _base > MaxTracked) _beyond++;
            else if (Hold(seq)) _own++;
            else _duplicates++;   // pushed to the very connection that sent it: §9 says it must not be
        }
    }

    /// <summary>At the end: an entry of this member's own that it does not hold (its `sent` answer failed or timed
    /// out, yet the server stored it), found by sync_group_messages. True if it filled a hole.</summary>
    public bool Claim(long seq)
    {
        lock (_lock)
        {
            if (_base < 0 || seq <= _base || seq - _base > MaxTracked || !Hold(seq)) return false;
            _own++;
            return true;
        }
    }

    /// <summary>
    /// The end: pushes from now on are not counted (the member is about to read what it misses with
    /// sync_group_messages, and a push racing that read must count neither as a delivery nor as a duplicate of it).
    /// </summary>
    public void Seal()
    {
        lock (_lock) _sealed = true;
    }

    /// <summary>
    /// After <see cref="Seal"/>: this member's sync_group_messages did not finish (a page unanswered by the end, or
    /// refused), so what it still misses was never looked for in the timeline: <see cref="Unsynced"/>, not
    /// <see cref="Lost"/>. Under load the sync's answers can come after the run's end (at load average 28 a
    /// `group small` run counted 850 of its senders' own stored entries lost that way: their `sent` answers and then their
    /// syncs timed out).
    /// </summary>
    public void SyncUnfinished()
    {
        lock (_lock) _syncUnfinished = true;
    }

    /// <summary>At the end: the seqs in (base, <paramref name="maxSeq"/>] this member never got by push, by its own
    /// answers or by a finished sync. 0 when its sync did not finish (see <see cref="Unsynced"/>).</summary>
    public long Lost(long maxSeq)
    {
        lock (_lock) return _syncUnfinished ? 0 : MissingUpTo(maxSeq);
    }

    /// <summary>At the end: the seqs this member misses when its sync did not finish: unverified, neither delivered nor
    /// shown lost.</summary>
    public long Unsynced(long maxSeq)
    {
        lock (_lock) return _syncUnfinished ? MissingUpTo(maxSeq) : 0;
    }

    /// <summary>After <see cref="Seal"/>: another member's entry this member read with sync_group_messages though it
    /// was never pushed to it. True if it filled a hole (counted as late).</summary>
    public bool LateFound(long seq)
    {
        lock (_lock)
        {
            if (_base < 0 || seq <= _base || seq - _base > MaxTracked || !Hold(seq)) return false;
            _late++;
            return true;
        }
    }

    /// <summary>The lowest seq in (base, <paramref name="maxSeq"/>] this member does not hold; null when none.</summary>
    public long? FirstMissing(long maxSeq)
    {
        lock (_lock)
        {
            if (_base < 0) return null;
            long span = Math.Min(maxSeq - _base, MaxTracked);
            for (long w = 0; w * 64 < span; w++)
            {
                ulong word = w < _held.Length ? _held[w] : 0;
                if (word == ulong.MaxValue) continue;
                long index = w * 64 + (long)ulong.TrailingZeroCount(~word);
                return index < span ? _base + 1 + index : null;
            }
            return null;
        }
    }

    /// <summary>Seqs in (base, <paramref name="maxSeq"/>] this member does not hold: at the end, its losses.</summary>
    public long MissingUpTo(long maxSeq)
    {
        lock (_lock)
        {
            if (_base < 0 || maxSeq <= _base) return 0;
            long span = Math.Min(maxSeq - _base, MaxTracked);
            long held = 0;
            long fullWords = span / 64;
            for (long w = 0; w < fullWords && w < _held.Length; w++) held += (long)ulong.PopCount(_held[w]);
            int rest = (int)(span % 64);
            if (rest > 0 && fullWords < _held.Length) held += (long)ulong.PopCount(_held[fullWords] & ((1UL << rest) - 1));
            return span - held;
        }
    }

    /// <summary>Sets the bit of <paramref name="seq"/>; false if it was set. Caller holds the lock.</summary>
    private bool Hold(long seq)
    {
        long index = seq - _base - 1;
        int word = (int)(index / 64);
        if (word >= _held.Length) Array.Resize(ref _held, Math.Max(word + 1, _held.Length * 2));
        ulong bit = 1UL << (int)(index % 64);
        if ((_held[word] & bit) != 0) return false;
        _held[word] |= bit;
        _highest = Math.Max(_highest, seq);
        return true;
    }
}
