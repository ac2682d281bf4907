using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.ObjectPool;

namespace QkChat.Transport;

/// <summary>
/// A message on its way out: a pooled, growable buffer that is also an <see cref="IBufferWriter{T}"/> for the body,
/// and reference counted so one frame fanned out to many connections is written once and returned to the pool when
/// the last connection has sent (or dropped) it. The transport treats the body as opaque bytes.
/// <para>
/// The body is written after <see cref="Headroom"/> free bytes. <see cref="Finish"/> writes the length prefix
/// (<see cref="LengthPrefixCodec"/>, the only codec whose header lives in the frame: <see cref="IFrameCodec.HeaderInFrame"/>)
/// into the end of that headroom, once, before the frame is shared; after that the frame is read-only, so several
/// reactors can send header and body as one contiguous segment at the same time. A WebSocket connection sends the
/// same frame's body with its own header, written by its stream as it copies the body out (docs/transport.md,
/// "Frame codecs"), so one fanned-out frame serves TCP, TLS and WebSocket receivers alike.
/// </para>
/// </summary>
public sealed class OutboundFrame : IBufferWriter<byte>
{
    /// <summary>
    /// Bytes kept free before the body for the codec's header: the length prefix takes 4, a server-to-client
    /// WebSocket header at most 10 (2, +2 for a 16-bit length, or +8 for a 64-bit one); 16 keeps the body aligned.
    /// </summary>
    public const int Headroom = 16;

    // Pooled frames start at 512 bytes (a heartbeat response is ~120, a chat push a few hundred) and grow by
    // renting a larger array; the object pool keeps at most 4096 idle frame objects (a few MB at worst).
    private const int InitialBytes = 512;
    private static readonly ObjectPool<OutboundFrame> Pool =
        new DefaultObjectPool<OutboundFrame>(new FramePolicy(), maximumRetained: 4096);

    private byte[] _buffer = [];
    private int _length;
    private int _headerLength;
    private IFrameCodec? _headerCodec;
    private int _references;

    /// <summary>Bytes of the body.</summary>
    public int Length => _length;

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(Headroom, _length);

    /// <summary>Header and body as they go on the wire (after <see cref="Finish"/>).</summary>
    public ReadOnlyMemory<byte> WireMemory => _buffer.AsMemory(Headroom - _headerLength, _headerLength + _length);

    /// <summary>Header plus body: what the frame pins in a send queue.</summary>
    public int WireLength => _headerLength + _length;

    internal ArraySegment<byte> Wire => new(_buffer, Headroom - _headerLength, _headerLength + _length);

    /// <summary>
    /// Whether a connection of <paramref name="codec"/> may send this frame: finished with that codec's header, or
    /// finished at all when the codec's stream writes its own header.
    /// </summary>
    internal bool IsFramedFor(IFrameCodec codec) =>
        ReferenceEquals(_headerCodec, codec) || (_headerCodec is not null && !codec.HeaderInFrame);

    /// <summary>Text for chat bodies; a WebSocket control frame (ping, pong, close) otherwise, which only a WebSocket stream sends.</summary>
    public FrameKind Kind { get; private set; }

    /// <summary>A finished control frame (WebSocket ping, pong or close) carrying <paramref name="payload"/>.</summary>
    public static OutboundFrame Control(FrameKind kind, ReadOnlySpan<byte> payload)
    {
        var frame = Copy(payload);
        frame.Kind = kind;
        return frame;
    }

    /// <summary>A frame with one reference, owned by the caller until it is sent or released.</summary>
    public static OutboundFrame Rent()
    {
        var frame = Pool.Get();
        frame._references = 1;
        if (frame._buffer.Length == 0) frame._buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
        return frame;
    }

    /// <summary>A finished frame whose body is <paramref name="body"/>.</summary>
    public static OutboundFrame Copy(ReadOnlySpan<byte> body)
    {
        var frame = Rent();
        body.CopyTo(frame.GetSpan(body.Length));
        frame.Advance(body.Length);
        return frame.Finish();
    }

    /// <summary>
    /// Ends the body and writes the header in front of it; call once, before the frame is sent or shared. Only the
    /// owner of a frame that nobody else holds yet may call it, so no connection can be reading the headroom.
    /// </summary>
    public OutboundFrame Finish()
    {
        var codec = LengthPrefixCodec.Instance;
        _headerLength = codec.WriteHeader(_buffer.AsSpan(0, Headroom), _length);
        _headerCodec = codec;
        return this;
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
        _headerLength = 0;
        _headerCodec = null;
        Kind = FrameKind.Text;
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
        if ((uint)count > (uint)(_buffer.Length - Headroom - _length)) throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(Headroom + _length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(Headroom + _length);
    }

    private void Ensure(int sizeHint)
    {
        int needed = Headroom + _length + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, Headroom + _length).CopyTo(bigger);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private sealed class FramePolicy : PooledObjectPolicy<OutboundFrame>
    {
        public override OutboundFrame Create() => new();

        public override bool Return(OutboundFrame obj) => true;
    }
}
