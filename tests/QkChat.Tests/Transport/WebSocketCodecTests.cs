using System.Buffers.Binary;
using System.Text;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

/// <summary>
/// <see cref="WebSocketCodec"/> on bytes a client would send (RFC 6455 §5): lengths in all three encodings, masks,
/// fragments joined in place, control frames, the close codes of each refusal, and sizes over the maximum known from
/// the header alone. protocol.md §11 and docs/web.md say what the server must do with each.
/// </summary>
public sealed class WebSocketCodecTests
{
    private const int OpContinuation = 0x0, OpText = 0x1, OpBinary = 0x2, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA;
    private static readonly byte[] Key = [0x37, 0xFA, 0x21, 0x3D];
    private readonly WebSocketCodec _codec = new(TimeSpan.FromSeconds(25));

    /// <summary>One client frame: FIN as given, masked with <paramref name="key"/> (null: unmasked), the shortest length encoding unless forced.</summary>
    private static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, byte[]? key = null, bool masked = true,
        int rsv = 0, bool force64 = false)
    {
        key ??= Key;
        var bytes = new List<byte> { (byte)((fin ? 0x80 : 0) | rsv << 4 | opcode) };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        if (payload.Length < 126 && !force64) bytes.Add((byte)(maskBit | payload.Length));
        else if (payload.Length <= ushort.MaxValue && !force64)
        {
            bytes.Add((byte)(maskBit | 126));
            bytes.Add((byte)(payload.Length >> 8));
            bytes.Add((byte)payload.Length);
        }
        else
        {
            bytes.Add((byte)(maskBit | 127));
            var wide = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(wide, (ulong)payload.Length);
            bytes.AddRange(wide);
        }
        if (masked) bytes.AddRange(key);
        for (int i = 0; i < payload.Length; i++) bytes.Add(masked ? (byte)(payload[i] ^ key[i & 3]) : payload[i]);
        return [.. bytes];
    }

    private static byte[] Text(string s, bool fin = true, int opcode = OpText) => Frame(opcode, Encoding.UTF8.GetBytes(s), fin);

    private static string Body(byte[] input, DecodedFrame frame) => Encoding.UTF8.GetString(input, frame.BodyOffset, frame.BodyLength);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]     // the largest 7-bit length
    [InlineData(126)]     // the smallest 16-bit length
    [InlineData(65_535)]  // the largest 16-bit length
    [InlineData(65_536)]  // the smallest 64-bit length
    public void A_masked_text_frame_of_each_length_encoding_is_unmasked_in_place(int length)
    {
        string text = new('x', length);
        text = length > 0 ? "{" + text[1..] : text;
        byte[] input = Frame(OpText, Encoding.UTF8.GetBytes(text));
        var status = _codec.Decode(input, 1 << 20, out var frame);
        if (length == 0)
        {
            Assert.Equal(FrameDecodeStatus.Empty, status);
            return;
        }
        Assert.Equal(FrameDecodeStatus.Complete, status);
        Assert.Equal(input.Length, frame.FrameLength);
        Assert.Equal(length, frame.BodyLength);
        Assert.Equal(text, Body(input, frame));
    }

    [Fact]
    public void Every_mask_and_every_tail_length_unmasks_to_the_same_text()
    {
        // The unmasking works 8 bytes a step and then byte by byte: each tail length 0-7 and masks with high bits set.
        foreach (byte[] key in new[] { new byte[] { 0, 0, 0, 0 }, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, new byte[] { 1, 0x80, 0x7F, 0xFE } })
        {
            for (int length = 1; length <= 24; length++)
            {
                string text = string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + i % 26)));
                byte[] input = Frame(OpText, Encoding.UTF8.GetBytes(text), key: key);
                Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(input, 100, out var frame));
                Assert.Equal(text, Body(input, frame));
            }
        }
    }

    [Fact]
    public void A_frame_split_anywhere_is_incomplete_until_its_last_byte()
    {
        byte[] input = Frame(OpText, Encoding.UTF8.GetBytes(new string('y', 300)));
        for (int cut = 0; cut < input.Length; cut++)
            Assert.Equal(FrameDecodeStatus.Incomplete, _codec.Decode(input.AsSpan(0, cut).ToArray(), 1000, out _));
        Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(input, 1000, out _));
    }

    [Fact]
    public void Two_frames_in_one_read_are_decoded_one_after_the_other()
    {
        byte[] input = [.. Text("{\"a\":1}"), .. Text("{\"b\":2}")];
        Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(input, 100, out var first));
        Assert.Equal("{\"a\":1}", Body(input, first));
        byte[] rest = input[first.FrameLength..];
        Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(rest, 100, out var second));
        Assert.Equal("{\"b\":2}", Body(rest, second));
        Assert.Equal(rest.Length, second.FrameLength);
    }

    [Fact]
    public void Fragments_are_joined_in_place_once_the_final_one_is_buffered()
    {
        byte[] first = Frame(OpText, "{\"action\":"u8, fin: false, key: [1, 2, 3, 4]);
        byte[] middle = Frame(OpContinuation, "\"heart"u8, fin: false, key: [9, 8, 7, 6]);
        byte[] last = Frame(OpContinuation, "beat\"}"u8, key: [0xAA, 0xBB, 0xCC, 0xDD]);
        byte[] input = [.. first, .. middle, .. last];
        for (int cut = first.Length; cut < input.Length; cut++)
            Assert.Equal(FrameDecodeStatus.Incomplete, _codec.Decode(input.AsSpan(0, cut).ToArray(), 100, out _));
        Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(input, 100, out var frame));
        Assert.Equal("{\"action\":\"heartbeat\"}", Body(input, frame));
        Assert.Equal(input.Length, frame.FrameLength);
    }

    [Fact]
    public void Fragments_that_are_all_empty_are_an_empty_message()
    {
        byte[] input = [.. Frame(OpText, [], fin: false), .. Frame(OpContinuation, [])];
        Assert.Equal(FrameDecodeStatus.Empty, _codec.Decode(input, 100, out _));
    }

    [Fact]
    public void Fragments_whose_total_passes_the_maximum_are_too_large_before_the_rest_arrives()
    {
        byte[] input = [.. Frame(OpText, new byte[60], fin: false), .. Frame(OpContinuation, new byte[60], fin: false)];
        // 120 bytes declared so far, the maximum 100: refused although the final fragment has not come.
        Assert.Equal(FrameDecodeStatus.TooLarge, _codec.Decode(input, 100, out var frame));
        Assert.Equal(120, frame.DeclaredLength);
    }

    [Theory]
    [InlineData(OpPing)]
    [InlineData(OpPong)]
    [InlineData(OpClose)]
    public void A_control_frame_between_fragments_is_refused_as_invalid(int opcode)
    {
        // docs/web.md "Limits known": browsers never fragment, so the server does not interleave.
        byte[] input = [.. Frame(OpText, "{\"a\":"u8, fin: false), .. Frame(opcode, "p"u8), .. Frame(OpContinuation, "1}"u8)];
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(input, 100, out _));
        Assert.Equal(WebSocketCodec.ProtocolError, CloseCode(_codec.Goodbye(CloseReason.ProtocolError, FrameError.Invalid)));
    }

    [Fact]
    public void A_new_text_frame_before_the_final_fragment_is_invalid()
    {
        byte[] input = [.. Frame(OpText, "{\"a\":"u8, fin: false), .. Frame(OpText, "1}"u8)];
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(input, 100, out _));
    }

    [Fact]
    public void Ping_is_answered_with_a_pong_carrying_its_payload()
    {
        byte[] input = Frame(OpPing, "are you there"u8);
        Assert.Equal(FrameDecodeStatus.Control, _codec.Decode(input, 100, out var frame));
        Assert.Equal(FrameKind.Ping, frame.Kind);
        Assert.Equal(input.Length, frame.FrameLength);
        Assert.Equal("are you there", Body(input, frame));
        var answer = _codec.AnswerControl(FrameKind.Ping, input.AsSpan(frame.BodyOffset, frame.BodyLength), out bool close);
        Assert.False(close);
        Assert.NotNull(answer);
        Assert.Equal(FrameKind.Pong, answer.Kind);
        Assert.Equal("are you there", Encoding.UTF8.GetString(answer.Memory.Span));
    }

    [Fact]
    public void A_pong_needs_no_answer()
    {
        byte[] input = Frame(OpPong, []);
        Assert.Equal(FrameDecodeStatus.Control, _codec.Decode(input, 100, out var frame));
        Assert.Equal(FrameKind.Pong, frame.Kind);
        Assert.Null(_codec.AnswerControl(FrameKind.Pong, [], out bool close));
        Assert.False(close);
    }

    [Theory]
    [InlineData(WebSocketCodec.NormalClosure)]
    [InlineData(WebSocketCodec.GoingAway)]
    [InlineData((ushort)4000)]
    public void A_close_is_echoed_with_its_status_code_and_closes(ushort code)
    {
        var payload = new byte[2 + 6];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        "bye now"u8[..6].CopyTo(payload.AsSpan(2));
        byte[] input = Frame(OpClose, payload);
        Assert.Equal(FrameDecodeStatus.Control, _codec.Decode(input, 100, out var frame));
        Assert.Equal(FrameKind.Close, frame.Kind);
        var answer = _codec.AnswerControl(FrameKind.Close, input.AsSpan(frame.BodyOffset, frame.BodyLength), out bool close);
        Assert.True(close);
        Assert.Equal(code, CloseCode(answer));
        Assert.Equal(2, answer!.Length); // the code only, not the reason text
    }

    [Fact]
    public void A_close_without_a_code_is_answered_with_an_empty_close()
    {
        byte[] input = Frame(OpClose, []);
        Assert.Equal(FrameDecodeStatus.Control, _codec.Decode(input, 100, out var frame));
        var answer = _codec.AnswerControl(FrameKind.Close, input.AsSpan(frame.BodyOffset, 0), out bool close);
        Assert.True(close);
        Assert.Equal(0, answer!.Length);
    }

    [Fact]
    public void Control_frames_that_are_fragmented_or_over_125_bytes_are_invalid()
    {
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(OpPing, "x"u8, fin: false), 1000, out _));
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(OpPing, new byte[126]), 1000, out _));
        Assert.Equal(FrameDecodeStatus.Control, _codec.Decode(Frame(OpPing, new byte[125]), 1000, out _));
    }

    [Fact]
    public void Unmasked_frames_reserved_bits_and_unknown_opcodes_are_invalid_with_close_code_1002()
    {
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(OpText, "{}"u8, masked: false), 100, out _));
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(OpText, "{}"u8, rsv: 4), 100, out _)); // RSV1: compression, never negotiated
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(0x3, "{}"u8), 100, out _));
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(0xB, "{}"u8), 100, out _));
        Assert.Equal(FrameDecodeStatus.Invalid, _codec.Decode(Frame(OpContinuation, "{}"u8), 100, out _)); // no start
        Assert.Equal(WebSocketCodec.ProtocolError, CloseCode(_codec.Goodbye(CloseReason.ProtocolError, FrameError.Invalid)));
        Assert.Equal(WebSocketCodec.ProtocolError, CloseCode(_codec.Goodbye(CloseReason.ProtocolError, FrameError.Empty)));
    }

    [Fact]
    public void A_binary_message_is_unsupported_with_close_code_1003()
    {
        Assert.Equal(FrameDecodeStatus.Unsupported, _codec.Decode(Frame(OpBinary, [1, 2, 3]), 100, out _));
        Assert.Equal(WebSocketCodec.UnsupportedData, CloseCode(_codec.Goodbye(CloseReason.ProtocolError, FrameError.Unsupported)));
    }

    [Fact]
    public void An_oversize_message_is_refused_from_its_header_alone_with_close_code_1009()
    {
        // Only the header of a 64-bit-length frame has arrived: no body byte is needed to refuse it.
        byte[] header = Frame(OpText, new byte[70_000])[..14];
        Assert.Equal(FrameDecodeStatus.TooLarge, _codec.Decode(header, 65_536, out var frame));
        Assert.Equal(70_000, frame.DeclaredLength);
        // A length with the most significant bit set (RFC 6455 forbids it) is too large too, and does not overflow.
        byte[] huge = [0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, .. Key];
        Assert.Equal(FrameDecodeStatus.TooLarge, _codec.Decode(huge, 65_536, out _));
        // Exactly the maximum is fine, and a 16-bit length forced into the 64-bit encoding still decodes.
        Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(Frame(OpText, new byte[100]), 100, out _));
        Assert.Equal(FrameDecodeStatus.Complete, _codec.Decode(Frame(OpText, new byte[5], force64: true), 100, out _));
        Assert.Equal(WebSocketCodec.MessageTooBig, CloseCode(_codec.Goodbye(CloseReason.ProtocolError, FrameError.TooLarge)));
    }

    [Fact]
    public void Goodbye_without_a_bad_frame_names_why_the_server_closes()
    {
        Assert.Equal(WebSocketCodec.GoingAway, CloseCode(_codec.Goodbye(CloseReason.Shutdown, null)));
        Assert.Equal(WebSocketCodec.TryAgainLater, CloseCode(_codec.Goodbye(CloseReason.ServerBusy, null)));
        Assert.Equal(WebSocketCodec.PolicyViolation, CloseCode(_codec.Goodbye(CloseReason.ProtocolError, null)));
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65_535, 4)]
    [InlineData(65_536, 10)]
    public void Server_frames_are_unmasked_with_the_shortest_length(int length, int headerLength)
    {
        var header = new byte[WebSocketCodec.MaxOutboundHeaderBytes];
        Assert.Equal(headerLength, WebSocketCodec.WriteHeader(header, FrameKind.Text, length));
        Assert.Equal(0x81, header[0]);
        Assert.Equal(0, header[1] & 0x80);
        long declared = headerLength switch
        {
            2 => header[1],
            4 => BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)),
            _ => (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(2)),
        };
        Assert.Equal(length, declared);
        Assert.Equal(0x89, FrameHead(FrameKind.Ping));
        Assert.Equal(0x8A, FrameHead(FrameKind.Pong));
        Assert.Equal(0x88, FrameHead(FrameKind.Close));

        static byte FrameHead(FrameKind kind) => WebSocketCodec.FrameWhole(kind, [])[0];
    }

    [Fact]
    public void The_keepalive_is_one_shared_ping_and_none_when_switched_off()
    {
        var ping = _codec.KeepAlive();
        Assert.NotNull(ping);
        Assert.Equal(FrameKind.Ping, ping.Kind);
        Assert.Equal(25_000, _codec.KeepAliveMs);
        ping.Release();
        Assert.Null(new WebSocketCodec(TimeSpan.Zero).KeepAlive());
    }

    private static ushort CloseCode(OutboundFrame? frame)
    {
        Assert.NotNull(frame);
        Assert.Equal(FrameKind.Close, frame.Kind);
        return BinaryPrimitives.ReadUInt16BigEndian(frame.Memory.Span);
    }
}
