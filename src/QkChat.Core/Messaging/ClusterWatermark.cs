namespace QkChat.Core.Messaging;

/// <summary>
/// The port through which the reads that page by message id learn the other nodes' watermarks (docs/messaging.md
/// "Several nodes"): each node's <see cref="MessageWriter.VisibleBelow"/> as it last published it. The adapter (qkchatd's
/// Redis publisher, src/QkChat.Server/Cluster/WatermarkPublisher.cs) writes it; Core only reads it. In-process servers
/// without a lease have none, and read below their own watermark alone.
/// </summary>
public interface IClusterWatermark
{
    /// <summary>
    /// The smallest watermark another live node published, or long.MaxValue when no other node bounds the reads (none
    /// is live, or the marks could not be read for longer than a mark lives). Read on reactors: no lock, no I/O.
    /// </summary>
    long OthersVisibleBelow { get; }

    /// <summary>
    /// <see cref="OthersVisibleBelow"/> once it is at least <paramref name="target"/>, or as it is after
    /// <paramref name="patience"/> (a node with a batch in flight below the target holds it back: that batch's messages
    /// are released later, so they are pushed, not lost). Returns at once when it is already there.
    /// </summary>
    ValueTask<long> OthersVisibleBelowPastAsync(long target, TimeSpan patience);
}

/// <summary>
/// The other nodes' marks as last read from the deployment (one read of all 16 per period), and the bound readers take
/// from them. A stale mark is lower than the truth (a node's watermark only rises), so reading an old snapshot is safe
/// and costs only visibility lag; but a snapshot older than a mark lives (the adapter could not read for that long) is
/// dropped: its nodes might be dead by now, and hiding every later message while Redis is away would stop catch-up for
/// the whole outage. Then reads are bounded by this node's own watermark only (today's single-node behaviour) until a
/// read succeeds again (docs/messaging.md "Several nodes", "When Redis is unreachable").
/// </summary>
public sealed class OtherNodeMarks(TimeSpan validity) : IClusterWatermark
{
    // Written whole by the adapter's one task, read by any thread: a reference swap, no torn pair.
    private sealed record Snapshot(long Minimum, int Nodes, long ValidUntilTick);

    private static readonly Snapshot None = new(long.MaxValue, 0, long.MaxValue);
    private Snapshot _current = None;
    private readonly long _validityMs = (long)validity.TotalMilliseconds;
    // Completed (and replaced) at every successful read, for the waits of OthersVisibleBelowPastAsync.
    private TaskCompletionSource _updated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long OthersVisibleBelow => OthersVisibleBelowAt(Environment.TickCount64);

    /// <summary><see cref="OthersVisibleBelow"/> at <paramref name="nowTick"/> (Environment.TickCount64).</summary>
    public long OthersVisibleBelowAt(long nowTick)
    {
        var s = Volatile.Read(ref _current);
        // No other node: nothing to compare, today's speed (one volatile read).
        if (s.Nodes == 0) return long.MaxValue;
        return nowTick < s.ValidUntilTick ? s.Minimum : long.MaxValue;
    }

    /// <summary>How many other nodes bounded the last successful read (0 when none did).</summary>
    public int OtherNodes => Volatile.Read(ref _current).Nodes;

    /// <summary>True when other nodes' marks were known but the last successful read is too old to trust: reads are
    /// bounded by this node's own watermark only (qkchat_messages_cluster_watermark_stale).</summary>
    public bool IsStaleAt(long nowTick)
    {
        var s = Volatile.Read(ref _current);
        return s.Nodes > 0 && nowTick >= s.ValidUntilTick;
    }

    /// <summary>
    /// A successful read: <paramref name="marks"/>[n] is node n's published mark, 0 where none is published (no node, or
    /// its key expired). This node's own entry (<paramref name="self"/>) is skipped: readers take its exact watermark.
    /// <paramref name="readSentAtTick"/> is when the read was sent; the snapshot is trusted for one mark lifetime after.
    /// </summary>
    public void Update(ReadOnlySpan<long> marks, int self, long readSentAtTick)
    {
        long minimum = long.MaxValue;
        int nodes = 0;
        for (int n = 0; n < marks.Length; n++)
        {
            if (n == self || marks[n] <= 0) continue;
            nodes++;
            minimum = Math.Min(minimum, marks[n]);
        }
        Volatile.Write(ref _current, nodes == 0 ? None : new Snapshot(minimum, nodes, readSentAtTick + _validityMs));
        Interlocked.Exchange(ref _updated, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async ValueTask<long> OthersVisibleBelowPastAsync(long target, TimeSpan patience)
    {
        long deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        while (true)
        {
            // Taken before the check: an update between the check and the wait completes it.
            var updated = Volatile.Read(ref _updated).Task;
            long others = OthersVisibleBelow;
            long left = deadline - Environment.TickCount64;
            if (others >= target || left <= 0) return others;
            try
            {
                await updated.WaitAsync(TimeSpan.FromMilliseconds(left));
            }
            catch (TimeoutException)
            {
                return OthersVisibleBelow;
            }
        }
    }

    /// <summary>The exclusive bound for a read that pages by id: this node's exact watermark, lowered by any other live
    /// node's published one.</summary>
    public static long Bound(long ownVisibleBelow, IClusterWatermark? others) =>
        others is null ? ownVisibleBelow : Math.Min(ownVisibleBelow, others.OthersVisibleBelow);

    /// <summary>How many milliseconds of ids the cluster bound hides beyond this node's own watermark (0 when none).</summary>
    public static long LagMs(long ownVisibleBelow, long bound) =>
        bound >= ownVisibleBelow ? 0 : MessageIds.TimestampOf(ownVisibleBelow) - MessageIds.TimestampOf(bound);
}
