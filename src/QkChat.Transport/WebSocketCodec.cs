using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace QkChat.Transport;

/// <summary>
/// protocol.md §11: RFC 6455 frames after the HTTP listener's upgrade, one JSON object per text message. Inbound
/// frames are parsed and unmasked in the connection's own receive buffer (no copy); a message split into fragments
/// is joined in place once all of them are buffered. Ping is answered with pong, close with close; binary messages
/// are refused (BAD_FRAME, close code 1003), and a message above the maximum is refused from its header
/// (FRAME_TOO_LARGE, close code 1009). Outbound, <see cref="WebSocketPipeStream"/> writes the header of each frame
/// (<see cref="WriteHeader(Span{byte}, FrameKind, int)"/>) as it copies the body out, so this codec puts nothing in
/// the frame. No extension is negotiated, so no compression (docs/web.md says why).
/// </summary>
public sealed class WebSocketCodec : IFrameCodec
{
    /// <summary>2 bytes, 8 for a 64-bit length, 4 for the mask: the longest client-to-server header (RFC 6455 §5.2).</summary>
    public const int MaxInboundHeaderBytes = 14;

    /// <summary>2 bytes plus 8 for a 64-bit length: server frames are not masked.</summary>
    public const int MaxOutboundHeaderBytes = 10;

    // Close codes (RFC 6455 §7.4.1).
    public const ushort NormalClosure = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort UnsupportedData = 1003;
    public const ushort PolicyViolation = 1008;
    public const ushort MessageTooBig = 1009;
    public const ushort TryAgainLater = 1013;

    private readonly OutboundFrame _ping;

    /// <param name="keepAlive">Silence toward the peer after which a ping goes out; zero: never.</param>
    public WebSocketCodec(TimeSpan keepAlive)
    {
        KeepAliveMs = (long)keepAlive.TotalMilliseconds;
        // One shared ping frame, never released to the pool (this reference is kept): a keepalive allocates nothing.
        _ping = OutboundFrame.Control(FrameKind.Ping, []);
    }

    public int MaxHeaderBytes => MaxInboundHeaderBytes;

    public bool HeaderInFrame => false;

    public long KeepAliveMs { get; }

    /// <summary>Nothing goes into a frame's headroom: the stream writes each header as it copies the body out.</summary>
    int IFrameCodec.WriteHeader(Span<byte> headroom, int bodyLength) => 0;

    public OutboundFrame? KeepAlive() => KeepAliveMs > 0 ? _ping.AddReference() : null;

    public FrameDecodeStatus Decode(Span<byte> input, int maxBodyBytes, out DecodedFrame frame)
    {
        frame = default;
        if (!TryReadHeader(input, out var head)) return FrameDecodeStatus.Incomplete;
        frame = new DecodedFrame(head.HeaderLength, 0, 0, head.Length);
        if (head.Reserved || !head.Masked) return FrameDecodeStatus.Invalid;
        switch (head.Opcode)
        {
            case OpPing or OpPong or OpClose:
                // RFC 6455 §5.5: control frames are never fragmented and carry at most 125 bytes.
                if (!head.Final || head.Length > 125) return FrameDecodeStatus.Invalid;
                if (input.Length < head.HeaderLength + head.Length) return FrameDecodeStatus.Incomplete;
                var payload = input.Slice(head.HeaderLength, (int)head.Length);
                Unmask(payload, head.Mask);
                var kind = head.Opcode switch { OpPing => FrameKind.Ping, OpPong => FrameKind.Pong, _ => FrameKind.Close };
                frame = new DecodedFrame(head.HeaderLength, payload.Length, head.HeaderLength + payload.Length, head.Length, kind);
                return FrameDecodeStatus.Control;
            case OpBinary:
                return FrameDecodeStatus.Unsupported;
            case OpText:
                break;
            default: // a continuation without a start, or an opcode RFC 6455 reserves
                return FrameDecodeStatus.Invalid;
        }
        if (head.Length > maxBodyBytes) return FrameDecodeStatus.TooLarge;
        if (head.Length == 0 && head.Final) return FrameDecodeStatus.Empty;
        if (head.Final)
        {
            int total = head.HeaderLength + (int)head.Length;
            if (input.Length < total) return FrameDecodeStatus.Incomplete;
            Unmask(input.Slice(head.HeaderLength, (int)head.Length), head.Mask);
            frame = new DecodedFrame(head.HeaderLength, (int)head.Length, total, head.Length);
            return FrameDecodeStatus.Complete;
        }
        return DecodeFragmented(input, maxBodyBytes, head, out frame);
    }

    /// <summary>
    /// A text message in fragments: waits until the final one is buffered, then unmasks each and moves the payloads
    /// together right after the first header. Control frames between fragments are refused as Invalid (browsers do
    /// not fragment; docs/web.md). The fragments' headers count against the receive buffer, so their total is bounded too.
    /// </summary>
    private static FrameDecodeStatus DecodeFragmented(Span<byte> input, int maxBodyBytes, Header first, out DecodedFrame frame)
    {
        long body = first.Length;
        int position = first.HeaderLength + (int)first.Length;
        frame = new DecodedFrame(first.HeaderLength, 0, 0, body);
        while (true)
        {
            if (input.Length < position) return FrameDecodeStatus.Incomplete;
            if (!TryReadHeader(input[position..], out var next)) return FrameDecodeStatus.Incomplete;
            if (next.Reserved || !next.Masked || next.Opcode != OpContinuation) return FrameDecodeStatus.Invalid;
            body += next.Length;
            frame = new DecodedFrame(first.HeaderLength, 0, 0, body);
            if (body > maxBodyBytes || position + next.HeaderLength + next.Length > maxBodyBytes + MaxInboundHeaderBytes)
                return FrameDecodeStatus.TooLarge;
            position += next.HeaderLength + (int)next.Length;
            if (next.Final) break;
        }
        if (input.Length < position) return FrameDecodeStatus.Incomplete;
        // All there: unmask and join.
        int write = first.HeaderLength, read = 0;
        var head = first;
        while (true)
        {
            var payload = input.Slice(read + head.HeaderLength, (int)head.Length);
            Unmask(payload, head.Mask);
            payload.CopyTo(input[write..]);
            write += payload.Length;
            read += head.HeaderLength + (int)head.Length;
            if (read >= position) break;
            TryReadHeader(input[read..], out head);
        }
        frame = new DecodedFrame(first.HeaderLength, (int)body, position, body);
        return body == 0 ? FrameDecodeStatus.Empty : FrameDecodeStatus.Complete;
    }

    public OutboundFrame? AnswerControl(FrameKind kind, ReadOnlySpan<byte> payload, out bool close)
    {
        close = kind == FrameKind.Close;
        return kind switch
        {
            FrameKind.Ping => OutboundFrame.Control(FrameKind.Pong, payload),
            // The closing handshake: echo the peer's status code (RFC 6455 §5.5.1), then close.
            FrameKind.Close => OutboundFrame.Control(FrameKind.Close, payload.Length >= 2 ? payload[..2] : []),
            _ => null,
        };
    }

    public OutboundFrame? Goodbye(CloseReason reason, FrameError? badFrame) =>
        CloseFrame(badFrame switch
        {
            FrameError.TooLarge => MessageTooBig,
            FrameError.Unsupported => UnsupportedData,
            FrameError.Empty or FrameError.Invalid => ProtocolError,
            _ => reason switch
            {
                CloseReason.Shutdown => GoingAway,
                CloseReason.ServerBusy => TryAgainLater,
                CloseReason.ProtocolError => PolicyViolation,
                _ => NormalClosure,
            },
        });

    /// <summary>A close frame with <paramref name="code"/> and no reason text.</summary>
    public static OutboundFrame CloseFrame(ushort code)
    {
        Span<byte> payload = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        return OutboundFrame.Control(FrameKind.Close, payload);
    }

    /// <summary>The length of the header <see cref="WriteHeader(Span{byte}, FrameKind, int)"/> writes for a <paramref name="length"/>-byte payload.</summary>
    public static int HeaderBytes(int length) => length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;

    /// <summary>Writes a server frame's header (FIN set, no mask) for <paramref name="length"/> bytes of <paramref name="kind"/>; returns its length.</summary>
    public static int WriteHeader(Span<byte> into, FrameKind kind, int length)
    {
        into[0] = (byte)(0x80 | kind switch { FrameKind.Ping => OpPing, FrameKind.Pong => OpPong, FrameKind.Close => OpClose, _ => OpText });
        if (length < 126)
        {
            into[1] = (byte)length;
            return 2;
        }
        if (length <= ushort.MaxValue)
        {
            into[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(into[2..], (ushort)length);
            return 4;
        }
        into[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(into[2..], (ulong)length);
        return 10;
    }

    /// <summary>Header and body in one new array (the rare refusal before a connection exists, not the hot path).</summary>
    public static byte[] FrameWhole(FrameKind kind, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[MaxOutboundHeaderBytes];
        int n = WriteHeader(header, kind, body.Length);
        return [.. header[..n], .. body];
    }

    // Opcodes (RFC 6455 §5.2).
    private const int OpContinuation = 0x0, OpText = 0x1, OpBinary = 0x2, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA;

    private readonly record struct Header(bool Final, bool Reserved, int Opcode, bool Masked, long Length, int HeaderLength, uint Mask);

    private static bool TryReadHeader(ReadOnlySpan<byte> input, out Header header)
    {
        header = default;
        if (input.Length < 2) return false;
        byte b0 = input[0], b1 = input[1];
        bool masked = (b1 & 0x80) != 0;
        long length = b1 & 0x7F;
        int at = 2;
        if (length == 126)
        {
            if (input.Length < 4) return false;
            length = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
            at = 4;
        }
        else if (length == 127)
        {
            if (input.Length < 10) return false;
            ulong wide = BinaryPrimitives.ReadUInt64BigEndian(input[2..]);
            // The most significant bit must be 0 (RFC 6455 §5.2); cap so the sum with the header cannot overflow.
            length = wide > long.MaxValue / 2 ? long.MaxValue / 2 : (long)wide;
            at = 10;
        }
        uint mask = 0;
        if (masked)
        {
            if (input.Length < at + 4) return false;
            mask = MemoryMarshal.Read<uint>(input[at..]);
            at += 4;
        }
        header = new Header((b0 & 0x80) != 0, (b0 & 0x70) != 0, b0 & 0x0F, masked, length, at, mask);
        return true;
    }

    /// <summary>XORs <paramref name="payload"/> with the 4-byte mask (as read from memory), 8 bytes a step.</summary>
    internal static void Unmask(Span<byte> payload, uint mask)
    {
        ulong wide = mask | ((ulong)mask << 32);
        int i = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(payload[..(payload.Length & ~7)]);
        for (; i < words.Length; i++) words[i] ^= wide;
        i *= 8;
        Span<byte> key = stackalloc byte[4];
        MemoryMarshal.Write(key, in mask);
        for (int k = 0; i < payload.Length; i++, k++) payload[i] ^= key[k & 3];
    }
}
