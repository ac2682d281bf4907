using System.Buffers;
using System.Text;
using QkChat.Server.Web;
using Xunit;

namespace QkChat.Tests.Web;

/// <summary>
/// The web listener's own reading of a connection's first request (WebSocketConnectionMiddleware): the plain upgrade
/// is recognised however the bytes are split, and anything it is not sure of goes to Kestrel (NotOurs), never answered wrongly.
/// </summary>
public sealed class UpgradeRequestTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Handshake(string extra = "", string line = "GET /ws HTTP/1.1") =>
        $"{line}\r\nHost: 127.0.0.1:8081\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
        $"Sec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:8081\r\n{extra}\r\n";

    private static UpgradeParse Parse(string text, out UpgradeRequest request, out long length) =>
        UpgradeRequest.Parse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), out request, out length);

    [Fact]
    public void A_browser_handshake_is_ours_and_the_frames_after_it_are_left()
    {
        string text = Handshake();
        Assert.Equal(UpgradeParse.Upgrade, Parse(text + "\x81\x85", out var request, out long length));
        Assert.Equal(text.Length, length);
        Assert.Equal("127.0.0.1:8081", request.Host);
        Assert.Equal("http://127.0.0.1:8081", request.Origin);
    }

    [Fact]
    public void The_answer_carries_the_accept_key_of_RFC_6455()
    {
        Assert.Equal(UpgradeParse.Upgrade, Parse(Handshake(), out var request, out _));
        var into = new byte[UpgradeRequest.SwitchingProtocolsBytes];
        string answer = Encoding.ASCII.GetString(into, 0, request.WriteSwitchingProtocols(into));
        // RFC 6455 §1.3's own example key and accept value.
        Assert.Equal("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", answer);
    }

    [Fact]
    public void Split_anywhere_it_is_incomplete_until_the_blank_line_then_the_same()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Handshake());
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            Assert.Equal(UpgradeParse.Incomplete, UpgradeRequest.Parse(new ReadOnlySequence<byte>(bytes, 0, cut), out _, out _));
            var split = Segments(bytes, cut);
            Assert.Equal(UpgradeParse.Upgrade, UpgradeRequest.Parse(split, out var request, out long length));
            Assert.Equal(bytes.Length, length);
            Assert.Equal("127.0.0.1:8081", request.Host);
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1")]
    [InlineData("GET /ws/x HTTP/1.1")]
    [InlineData("GET /wsx HTTP/1.1")]
    [InlineData("GET /ws?token=1 HTTP/1.1")]
    [InlineData("POST /ws HTTP/1.1")]
    [InlineData("GET /ws HTTP/1.0")]
    [InlineData("GET http://127.0.0.1/ws HTTP/1.1")]
    public void Another_request_line_goes_to_Kestrel(string line) =>
        Assert.Equal(UpgradeParse.NotOurs, Parse(Handshake(line: line), out _, out _));

    [Fact]
    public void Another_method_or_path_is_told_from_the_first_bytes()
    {
        Assert.Equal(UpgradeParse.NotOurs, Parse("HEAD", out _, out _));
        Assert.Equal(UpgradeParse.NotOurs, Parse("GET /index.html", out _, out _));
        Assert.Equal(UpgradeParse.Incomplete, Parse("GET /w", out _, out _));
    }

    [Theory]
    [InlineData("Host: second\r\n")] // repeated headers are Kestrel's to judge
    [InlineData("Origin: http://a\r\n")]
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")]
    [InlineData("Content-Length: 0\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\n")]
    [InlineData(" folded\r\n")]
    [InlineData("Bad Name: x\r\n")]
    [InlineData("X-Caf\u00e9: x\r\n")]
    [InlineData("X: caf\u00e9\r\n")]
    [InlineData("no colon\r\n")]
    public void Anything_unusual_in_the_headers_goes_to_Kestrel(string extra)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(Handshake(extra));
        Assert.Equal(UpgradeParse.NotOurs, UpgradeRequest.Parse(new ReadOnlySequence<byte>(bytes), out _, out _));
    }

    [Theory]
    [InlineData("Upgrade: websocket\r\n", "Upgrade: h2c\r\n")]
    [InlineData("Connection: keep-alive, Upgrade\r\n", "Connection: keep-alive\r\n")]
    [InlineData("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 8\r\n")]
    [InlineData($"Sec-WebSocket-Key: {Key}\r\n", "Sec-WebSocket-Key: short\r\n")]
    [InlineData("Host: 127.0.0.1:8081\r\n", "")]
    [InlineData("Host: 127.0.0.1:8081\r\n", "Host: 127.0.0.1 /x\r\n")] // not a host: Kestrel answers 400
    [InlineData("Host: 127.0.0.1:8081\r\n", "Host: user@127.0.0.1:8081\r\n")]
    [InlineData("Host: 127.0.0.1:8081\r\n", "Host: 127.0.0.1:80x\r\n")]
    public void A_missing_or_wrong_upgrade_header_goes_to_Kestrel_which_answers_426_or_400(string from, string to) =>
        Assert.Equal(UpgradeParse.NotOurs, Parse(Handshake().Replace(from, to, StringComparison.Ordinal), out _, out _));

    [Fact]
    public void Header_names_compare_ignoring_case_and_no_origin_is_empty()
    {
        string text = Handshake().Replace("Origin: http://127.0.0.1:8081\r\n", "", StringComparison.Ordinal)
            .Replace("Upgrade: websocket", "UPGRADE: WebSocket", StringComparison.Ordinal);
        Assert.Equal(UpgradeParse.Upgrade, Parse(text, out var request, out _));
        Assert.Equal("", request.Origin);
    }

    [Fact]
    public void A_header_block_over_32_KiB_goes_to_Kestrel()
    {
        string padding = "X-Pad: " + new string('a', UpgradeRequest.MaxHeaderBytes) + "\r\n";
        Assert.Equal(UpgradeParse.NotOurs, Parse(Handshake(padding), out _, out _));
        Assert.Equal(UpgradeParse.NotOurs, Parse(Handshake(padding)[..(UpgradeRequest.MaxHeaderBytes + 10)], out _, out _));
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes, int cut)
    {
        var first = new Segment(bytes.AsMemory(0, cut), 0);
        var last = first.Append(bytes.AsMemory(cut));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
