namespace QkChat.Core.Messaging;

/// <summary>
/// The port through which the reads that page by message id (sync_messages, get_chat_history, the offline queue at login)
/// learn what the other nodes of the deployment still have in flight (docs/cluster.md "Read marks"). The adapter
/// (qkchatd's Redis side, src/QkChat.Server/Cluster/ReadMarkPublisher.cs) publishes this node's
/// <see cref="MessageWriter.ReadMark"/> and feeds the other nodes' into <see cref="ClusterReadMarks"/>. One node (or an
/// in-process server without a lease) has none, and reads below its own watermark alone.
/// </summary>
public interface IClusterReadMark
{
    /// <summary>
    /// The exclusive bound the other nodes put on a read whose own bound is <paramref name="mark"/>: the lowest id another
    /// live node still has in flight (long.MaxValue when none). Waits, at most <paramref name="patience"/>, until every
    /// live node has spoken since <paramref name="mark"/> (so whatever it mints later is at or above it) and holds nothing
    /// in flight below it; a node silent for <see cref="ClusterReadMarks.SilentAfter"/> is not waited for.
    /// </summary>
    ValueTask<long> OthersBelowAsync(long mark, TimeSpan patience, CancellationToken ct);
}

/// <summary>
/// One node's published word: which deployment (the database it writes: nodes of other deployments sharing one Redis,
/// as tests do, are ignored), which process (lease incarnation, the lease's host:port and the first mark it published),
/// its in-flight floor (0: nothing in flight) and a fresh mark taken with it (every id it mints later is at least that).
/// </summary>
public readonly record struct NodeReadMark(string Deployment, string Incarnation, string Where, long StartedAt, long Floor, long AsOf)
{
    public string Format() => $"{Deployment} {Incarnation} {Where} {StartedAt} {Floor} {AsOf}";

    /// <summary>The value as <see cref="Format"/> wrote it, or null for anything else (a missing key, another version).</summary>
    public static NodeReadMark? Parse(string? value)
    {
        if (value is null) return null;
        var parts = value.Split(' ');
        if (parts.Length != 6 || !long.TryParse(parts[3], out long started) || !long.TryParse(parts[4], out long floor)
            || !long.TryParse(parts[5], out long asOf)) return null;
        return new NodeReadMark(parts[0], parts[1], parts[2], started, floor, asOf);
    }
}

/// <summary>
/// The other nodes' read marks as last read, and the bound a reader takes from them. The rules (docs/cluster.md
/// "Read marks"):
/// <list type="bullet">
/// <item>A node holds readers back only by what it really has in flight: its floor. An idle node (floor 0), however old
/// its word, holds nothing back.</item>
/// <item>A reader whose own bound is M waits (bounded) for every live node to speak after M (its AsOf at least M) and to
/// have no floor below M: a node that was idle when it last spoke may have minted below M since (clocks differ by
/// node), so its old word is not enough.</item>
/// <item>A node that has not spoken for <see cref="SilentAfter"/> is not waited for (dead, or stalled): its last floor
/// stands, an idle last word holds nothing back.</item>
/// <item>A node leaves at once when the liveness table (the leases, ClusterDelivery) calls it dead, and a process whose
/// host:port a later process of the deployment publishes from (a restart under another node number while the dead
/// process's lease runs out) is retired.</item>
/// <item>Marks not read for the validity given at construction (Redis away) bound nothing: reads fall back to this node's own
/// watermark rather than hide every later message for the length of the outage.</item>
/// </list>
/// </summary>
public sealed class ClusterReadMarks : IClusterReadMark
{
    /// <summary>
    /// 200 ms: ten publish periods (ReadMarkPublisher.Period, 20 ms). A live node speaks every period; one silent ten
    /// times over is dead or stalled, and readers stop waiting for it (its last floor still holds them back).
    /// </summary>
    public static readonly TimeSpan SilentAfter = TimeSpan.FromMilliseconds(200);

    private sealed record Known(NodeReadMark Mark, long ChangedAt);

    private readonly int _self;
    private readonly string _deployment, _selfIncarnation, _selfWhere;
    private readonly TimeProvider _time;
    private readonly long _validityMs;
    private readonly Lock _lock = new();
    private readonly Known?[] _nodes = new Known?[MessageIds.MaxNode + 1];
    private long _lastReadAt = long.MinValue;
    // Completed (and replaced) at every read, for the waits of OthersBelowAsync.
    private TaskCompletionSource _updated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="self">This node's number and, with <paramref name="selfIncarnation"/> and <paramref name="selfWhere"/>,
    /// its process: a word of another process from this host:port is this process's dead predecessor's.</param>
    /// <param name="validity">How long the marks of a successful read bound readers when no read succeeds after it.</param>
    public ClusterReadMarks(int self, string selfIncarnation, string selfWhere, string deployment, TimeSpan validity, TimeProvider? time = null)
    {
        _self = self;
        _selfIncarnation = selfIncarnation;
        _selfWhere = selfWhere;
        _deployment = deployment;
        _validityMs = (long)validity.TotalMilliseconds;
        _time = time ?? TimeProvider.System;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// A successful read: <paramref name="marks"/>[n] is node n's published word (null: none), <paramref name="live"/>[n]
    /// whether node n holds a lease now.
    /// </summary>
    public void Update(ReadOnlySpan<NodeReadMark?> marks, ReadOnlySpan<bool> live)
    {
        long now = Now;
        lock (_lock)
        {
            for (int n = 0; n < _nodes.Length; n++)
            {
                var mark = n < marks.Length ? marks[n] : null;
                if (n == _self || n >= live.Length || !live[n] || mark is not { } m || m.Deployment != _deployment) _nodes[n] = null;
                else if (_nodes[n]?.Mark != m) _nodes[n] = new Known(m, now);
            }
            _lastReadAt = now;
        }
        Interlocked.Exchange(ref _updated, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>The bound as the last read says, and whether it is settled for a read whose own bound is <paramref name="mark"/>
    /// (no live node still to be waited for).</summary>
    public (long Bound, bool Settled) OthersBelow(long mark)
    {
        long now = Now;
        lock (_lock)
        {
            if (_lastReadAt == long.MinValue || now - _lastReadAt > _validityMs) return (long.MaxValue, true);
            long bound = long.MaxValue;
            bool settled = true;
            for (int n = 0; n < _nodes.Length; n++)
            {
                if (_nodes[n] is not { } k || Retired(k.Mark)) continue;
                var m = k.Mark;
                if (m.Floor > 0) bound = Math.Min(bound, m.Floor);
                bool silent = now - k.ChangedAt >= (long)SilentAfter.TotalMilliseconds;
                if (!silent && (m.AsOf < mark || (m.Floor > 0 && m.Floor < mark))) settled = false;
            }
            return (bound, settled);
        }
    }

    /// <summary>Under _lock: a later process of the deployment publishes from the same host:port (this process, or another
    /// node's), so this one is dead.</summary>
    private bool Retired(NodeReadMark m)
    {
        if (m.Where == _selfWhere && m.Incarnation != _selfIncarnation) return true;
        foreach (var other in _nodes)
            if (other is { } o && o.Mark.Where == m.Where && o.Mark.Incarnation != m.Incarnation && o.Mark.StartedAt > m.StartedAt) return true;
        return false;
    }

    public async ValueTask<long> OthersBelowAsync(long mark, TimeSpan patience, CancellationToken ct)
    {
        long deadline = Now + (long)patience.TotalMilliseconds;
        while (true)
        {
            // Taken before the check: a read between the check and the wait completes it.
            var updated = Volatile.Read(ref _updated).Task;
            var (bound, settled) = OthersBelow(mark);
            long left = deadline - Now;
            if (settled || left <= 0) return bound;
            try
            {
                // Also woken by time alone: a node turns silent without any read changing.
                await updated.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, (long)SilentAfter.TotalMilliseconds)), _time, ct);
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
