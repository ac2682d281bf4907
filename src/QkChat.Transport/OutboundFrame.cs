using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.ObjectPool;

namespace QkChat.Transport;

/// <summary>
/// Bytes on their way out: a pooled, growable buffer that is also an <see cref="IBufferWriter{T}"/>, and reference
/// counted so one frame fanned out to many connections is written once and returned to the pool when the last
/// connection has sent (or dropped) it. The transport treats the content as opaque bytes.
/// </summary>
public sealed class OutboundFrame : IBufferWriter<byte>
{
    // Pooled frames start at 512 bytes (a heartbeat response is ~120, a chat push a few hundred) and grow by
    // renting a larger array; the object pool keeps at most 4096 idle frame objects (a few MB at worst).
    private const int InitialBytes = 512;
    private static readonly ObjectPool<OutboundFrame> Pool =
        new DefaultObjectPool<OutboundFrame>(new FramePolicy(), maximumRetained: 4096);

    private byte[] _buffer = [];
    private int _length;
    private int _references;

    public int Length => _length;

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public Span<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    internal ArraySegment<byte> Segment => new(_buffer, 0, _length);

    /// <summary>A frame with one reference, owned by the caller until it is sent or released.</summary>
    public static OutboundFrame Rent()
    {
        var frame = Pool.Get();
        frame._references = 1;
        if (frame._buffer.Length == 0) frame._buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
        return frame;
    }

    public static OutboundFrame Copy(ReadOnlySpan<byte> bytes)
    {
        var frame = Rent();
        bytes.CopyTo(frame.GetSpan(bytes.Length));
        frame.Advance(bytes.Length);
        return frame;
    }

    /// <summary>Adds a reference, one per extra receiver of a fanned-out frame.</summary>
    public OutboundFrame AddReference()
    {
        int after = Interlocked.Increment(ref _references);
        Debug.Assert(after > 1, "AddReference on a released frame");
        return this;
    }

    public void Release()
    {
        int after = Interlocked.Decrement(ref _references);
        if (after > 0) return;
        if (after < 0) throw new InvalidOperationException("OutboundFrame released more often than referenced");
        _length = 0;
        if (_buffer.Length > InitialBytes * 8)
        {
            // Do not let one large frame keep a large array attached to a pooled object forever.
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
        Pool.Return(this);
    }

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _length)) throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        int needed = _length + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private sealed class FramePolicy : PooledObjectPolicy<OutboundFrame>
    {
        public override OutboundFrame Create() => new();

        public override bool Return(OutboundFrame obj) => true;
    }
}
