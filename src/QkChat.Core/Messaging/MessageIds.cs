namespace QkChat.Core.Messaging;

/// <summary>
/// Message ids: time-ordered, unique across nodes, below 2^53 (protocol.md §2). Layout, 53 bits in all:
/// 41 bits of milliseconds since 2025-01-01 (69 years), 4 bits of node (16 nodes, the multi-node issue's scale),
/// 8 bits of sequence (256 ids per millisecond per node = 256,000/s, five times the 50,000/s target). A burst past
/// that borrows the next millisecond, so ids stay unique and increasing even if the clock stalls or steps back.
/// Across restarts the same holds because the server starts above the largest stored id (<see cref="AdvancePast"/>):
/// a clock that stepped back while it was down (or one that was ahead before) cannot mint an id already taken.
/// Across nodes, the node bits differ as long as no two live nodes share a number: qkchatd leases its number in
/// Redis and mints only while the lease holds (<see cref="NodeIdPermit"/>, docs/cluster.md).
/// </summary>
public sealed class MessageIds
{
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const int SequenceBits = 8, NodeBits = 4;
    public const int MaxNode = (1 << NodeBits) - 1;

    private readonly long _node;
    private readonly TimeProvider _time;
    private readonly NodeIdPermit _permit;

    // (milliseconds since the epoch << 8) | sequence of the last id handed out.
    private long _last;

    public MessageIds(int node = 0, TimeProvider? time = null, NodeIdPermit? permit = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(node);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(node, MaxNode);
        _node = node;
        _time = time ?? TimeProvider.System;
        _permit = permit ?? NodeIdPermit.Unlimited();
    }

    /// <summary>This node's number, the 4 node bits of every id it mints.</summary>
    public int Node => (int)_node;

    /// <summary>
    /// The next id, or false when the node's lease has lapsed (the caller answers UNAVAILABLE): for the reactor paths,
    /// which must not throw.
    /// </summary>
    public bool TryNext(out long id)
    {
        id = 0;
        if (!_permit.IsOpen) return false;
        id = Mint();
        return true;
    }

    /// <summary>The next id; throws <see cref="NodeIdLapsedException"/> (UNAVAILABLE) when the node's lease has lapsed.</summary>
    public long Next() => _permit.IsOpen ? Mint() : throw new NodeIdLapsedException();

    /// <summary>
    /// A bound every later id of this node exceeds, without the lease check: it is compared with, never stored, so it
    /// may be taken while the lease has lapsed (the offline drain at login uses it).
    /// </summary>
    public long Mark() => Mint();

    private long Mint()
    {
        long now = (_time.GetUtcNow() - Epoch).Ticks / TimeSpan.TicksPerMillisecond << SequenceBits;
        while (true)
        {
            long last = Volatile.Read(ref _last);
            long next = Math.Max(last + 1, now);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
                return (next >> SequenceBits << (NodeBits + SequenceBits)) | (_node << SequenceBits) | (next & ((1 << SequenceBits) - 1));
        }
    }

    /// <summary>
    /// Every later id is larger than <paramref name="id"/> (an id of any node): the next one takes the millisecond
    /// after <paramref name="id"/>'s unless the clock or an earlier id is already past it.
    /// </summary>
    public void AdvancePast(long id)
    {
        // The last sequence number of id's millisecond: Next() adds one, which carries into the next millisecond.
        long mark = (id >> (NodeBits + SequenceBits) << SequenceBits) | ((1 << SequenceBits) - 1);
        while (true)
        {
            long last = Volatile.Read(ref _last);
            if (last >= mark || Interlocked.CompareExchange(ref _last, mark, last) == last) return;
        }
    }

    /// <summary>How far apart in id two ids made <paramref name="span"/> apart are (the milliseconds above node and sequence).</summary>
    public static long IdSpan(TimeSpan span) => (long)span.TotalMilliseconds << (NodeBits + SequenceBits);

    /// <summary>The Unix milliseconds an id was made at (borrowed milliseconds included).</summary>
    public static long TimestampOf(long id) => Epoch.ToUnixTimeMilliseconds() + (id >> (NodeBits + SequenceBits));
}
