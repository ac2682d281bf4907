using System.Buffers;

namespace QkChat.Server.Cluster;

/// <summary>
/// The batches of one round, per target node; a full one is sealed and a new one started. The buffers are kept for
/// the next round once every publish of this one was answered (Redis has read them by then), so a busy route sender
/// writes its records into warm buffers and publishes them as they are, without a copy (a batch used to be copied
/// out into a new array at publish, and every round started with new buffers). Used by the route sender only.
/// </summary>
public sealed class RouteBatches(int self)
{
    // Buffers kept for reuse: one per node that is usually targeted is the steady state, a few more after a burst of
    // sealed batches. Beyond this many the extra are left to the GC (each may have grown to MaxBatchBytes).
    private const int MaxSpare = 32;

    private readonly Dictionary<int, ArrayBufferWriter<byte>> _open = [];
    private readonly List<(int Node, ArrayBufferWriter<byte> Writer)> _sealed = [];
    private readonly Stack<ArrayBufferWriter<byte>> _spare = new();
    private readonly List<(int Node, ReadOnlyMemory<byte> Bytes)> _all = [];

    public void Begin()
    {
        _open.Clear();
        _sealed.Clear();
    }

    public ArrayBufferWriter<byte> For(int node)
    {
        if (_open.TryGetValue(node, out var writer)) return writer;
        if (!_spare.TryPop(out writer)) writer = new ArrayBufferWriter<byte>(4096);
        writer.ResetWrittenCount();
        RouteWire.WriteHeader(writer, self);
        return _open[node] = writer;
    }

    public void SealIfFull(int node)
    {
        var writer = _open[node];
        if (writer.WrittenCount < RouteWire.MaxBatchBytes) return;
        _sealed.Add((node, writer));
        _open.Remove(node);
    }

    /// <summary>Every batch of the round: the sealed ones first, in the order they filled, then the open ones. The list
    /// is this object's, valid until the next <see cref="Begin"/> (a List: its struct enumerator allocates nothing).</summary>
    public List<(int Node, ReadOnlyMemory<byte> Bytes)> Sealed()
    {
        _all.Clear();
        foreach (var (node, writer) in _sealed) _all.Add((node, writer.WrittenMemory));
        foreach (var (node, writer) in _open) _all.Add((node, writer.WrittenMemory));
        return _all;
    }

    /// <summary>Every publish of the round was answered: the buffers serve the next round.</summary>
    public void Recycle()
    {
        foreach (var (_, writer) in _sealed) Keep(writer);
        foreach (var writer in _open.Values) Keep(writer);
        Begin();
    }

    /// <summary>A publish failed or timed out: Redis's client may still read these buffers; they are dropped.</summary>
    public void Abandon() => Begin();

    private void Keep(ArrayBufferWriter<byte> writer)
    {
        if (_spare.Count < MaxSpare) _spare.Push(writer);
    }
}
