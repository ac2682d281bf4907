using System.Buffers.Binary;
using System.Text;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

/// <summary>
/// The listener's codec sits between the connection's byte stream and the handler, which sees whole bodies only
/// (docs/transport.md, "Frame codecs"). Driven through <see cref="InMemoryConnection"/> with a handler that knows no
/// JSON, so these are the transport's own rules, independent of the dispatcher.
/// </summary>
public sealed class FrameCodecTests
{
    private static byte[] Framed(params string[] bodies) =>
        [.. bodies.SelectMany(b => (byte[])[.. BigEndian(Encoding.UTF8.GetByteCount(b)), .. Encoding.UTF8.GetBytes(b)])];

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    [Fact]
    public void The_length_prefix_codec_reports_bodies_partial_frames_and_bad_headers_from_the_header_alone()
    {
        var codec = LengthPrefixCodec.Instance;
        byte[] frame = Framed("{\"a\":1}");
        Assert.Equal(FrameDecodeStatus.Complete, codec.Decode(frame, 100, out var decoded));
        Assert.Equal(new DecodedFrame(4, 7, 11, 7), decoded);
        for (int cut = 0; cut < frame.Length; cut++)
            Assert.Equal(FrameDecodeStatus.Incomplete, codec.Decode(frame.AsSpan(0, cut), 100, out _));
        // Four header bytes and no body: the length is refused before a body byte exists.
        Assert.Equal(FrameDecodeStatus.TooLarge, codec.Decode(new byte[] { 0, 0, 0, 101 }, 100, out decoded));
        Assert.Equal(101, decoded.DeclaredLength);
        Assert.Equal(FrameDecodeStatus.TooLarge, codec.Decode(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, 100, out decoded));
        Assert.Equal(uint.MaxValue, decoded.DeclaredLength);
        Assert.Equal(FrameDecodeStatus.Empty, codec.Decode(new byte[] { 0, 0, 0, 0 }, 100, out _));
        Assert.Equal(FrameDecodeStatus.Incomplete, codec.Decode(new byte[] { 0, 0, 0, 100 }, 100, out _));
    }

    [Fact]
    public void The_handler_gets_whole_bodies_and_a_partial_frame_is_not_consumed()
    {
        var handler = new RecordingHandler();
        using var memory = new InMemoryConnection(handler);
        byte[] two = Framed("first", "second");
        int split = 4 + 5 + 3; // the first frame and part of the second's header
        Assert.Equal(9, memory.Receive(two.AsSpan(0, split)));
        Assert.Equal(["first"], handler.Bodies);
        Assert.Equal(two.Length - 9, memory.Receive(two.AsSpan(9)));
        Assert.Equal(["first", "second"], handler.Bodies);
        Assert.Equal(2, memory.DiscardOutput()); // the handler's echoes, framed by the transport
    }

    [Fact]
    public void A_bad_header_reaches_the_handler_with_its_declared_length_and_the_connection_closes()
    {
        var handler = new RecordingHandler();
        using var memory = new InMemoryConnection(handler);
        byte[] input = [.. Framed("ok"), 0, 1, 0, 1, .. Framed("never")]; // 65,537 declared: over the default maximum
        Assert.Equal(input.Length, memory.Receive(input));
        Assert.Equal(["ok"], handler.Bodies);
        Assert.Equal((FrameError.TooLarge, 65_537L, 65_536), handler.BadFrame);
        Assert.False(memory.Connection.IsOpen);

        var empty = new RecordingHandler();
        using var second = new InMemoryConnection(empty);
        second.Receive(new byte[] { 0, 0, 0, 0 });
        Assert.Equal((FrameError.Empty, 0L, 65_536), empty.BadFrame);
        Assert.False(second.Connection.IsOpen);
    }

    [Fact]
    public void A_paused_connection_offers_no_further_body_until_it_resumes()
    {
        var handler = new RecordingHandler { PauseOn = "slow" };
        using var memory = new InMemoryConnection(handler);
        byte[] input = Framed("slow", "next");
        Assert.Equal(8, memory.Receive(input));
        Assert.Equal(["slow"], handler.Bodies);
        memory.Connection.PostResume();
        Assert.Equal(input.Length - 8, memory.Receive(input.AsSpan(8)));
        Assert.Equal(["slow", "next"], handler.Bodies);
    }

    [Fact]
    public void Another_codec_plugs_in_without_touching_the_connection()
    {
        var handler = new RecordingHandler { Echo = false };
        using var memory = new InMemoryConnection(handler, new LineCodec());
        byte[] input = Encoding.UTF8.GetBytes("one\ntwo\nthr");
        Assert.Equal(8, memory.Receive(input));
        Assert.Equal(["one", "two"], handler.Bodies);
        // A frame finished with the length prefix is refused rather than sent under another codec's framing.
        Assert.Throws<InvalidOperationException>(() => memory.Connection.Send(OutboundFrame.Copy("x"u8)));
    }

    [Fact]
    public void A_finished_frame_carries_the_length_prefix_in_its_headroom_and_its_body_unchanged()
    {
        var frame = OutboundFrame.Copy("hello"u8);
        Assert.Equal("hello"u8.ToArray(), frame.Memory.ToArray());
        Assert.Equal([0, 0, 0, 5, .. "hello"u8.ToArray()], frame.WireMemory.ToArray());
        Assert.Equal(9, frame.WireLength);
        frame.Release();
    }

    [Fact]
    public void An_unfinished_frame_is_refused_by_send()
    {
        var handler = new RecordingHandler();
        using var memory = new InMemoryConnection(handler);
        var frame = OutboundFrame.Rent();
        "raw"u8.CopyTo(frame.GetSpan(3));
        frame.Advance(3);
        Assert.Throws<InvalidOperationException>(() => memory.Connection.Send(frame));
    }

    /// <summary>Echoes every body (as a finished frame), records bad frames, pauses on a chosen body.</summary>
    private sealed class RecordingHandler : IConnectionHandler
    {
        public List<string> Bodies { get; } = [];
        public (FrameError, long, int)? BadFrame { get; private set; }
        public string? PauseOn { get; init; }
        public bool Echo { get; init; } = true;

        public void OnOpened(Connection connection) { }

        public void OnFrame(Connection connection, ReadOnlySpan<byte> body)
        {
            string text = Encoding.UTF8.GetString(body);
            Bodies.Add(text);
            if (Echo) connection.Send(OutboundFrame.Copy(body));
            if (text == PauseOn) connection.Pause();
        }

        public void OnBadFrame(Connection connection, FrameError error, long declaredLength, int maxBodyBytes) =>
            BadFrame = (error, declaredLength, maxBodyBytes);

        public void OnDeadline(Connection connection) { }

        public void OnClosed(Connection connection, CloseReason reason) { }
    }

    /// <summary>One message per line: a codec with no length header at all, standing in for a WebSocket one.</summary>
    private sealed class LineCodec : IFrameCodec
    {
        public int MaxHeaderBytes => 0;

        public FrameDecodeStatus Decode(Span<byte> input, int maxBodyBytes, out DecodedFrame frame)
        {
            int end = input.IndexOf((byte)'\n');
            frame = end < 0 ? default : new DecodedFrame(0, end, end + 1, end); // the newline is a trailer
            return end < 0 ? FrameDecodeStatus.Incomplete : FrameDecodeStatus.Complete;
        }

        public int WriteHeader(Span<byte> headroom, int bodyLength) => 0;
    }
}
