using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using QkChat.IntegrationTests.Chat;
using Xunit;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// docs/web.md "Keepalive": the server pings a WebSocket after http.ws_ping_interval_s of silence toward it, and a
/// pong keeps the connection. Seen on the wire with a hand-made client (a .NET ClientWebSocket answers pings by itself
/// and never shows them), with the shortest interval the option allows (1 s). Every read has a deadline.
/// </summary>
public sealed class WebSocketKeepAliveTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task A_silent_websocket_gets_a_ping_and_stays_open_after_its_pong()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync(o => o.PingIntervalSeconds = 1);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", web.EndPoint.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var deadline = new CancellationTokenSource(Patience);

        // RFC 6455 §1.3's example key and its accept value.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{web.EndPoint.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), deadline.Token);
        string answer = await ReadHeadAsync(stream, deadline.Token);
        Assert.StartsWith("HTTP/1.1 101", answer);
        Assert.Contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", answer);

        // Nothing sent: within the deadline the server pings (an unmasked, final ping frame).
        var (opcode, payload) = await ReadFrameAsync(stream, deadline.Token);
        Assert.Equal(0x9, opcode);
        await WriteFrameAsync(stream, 0xA, payload, deadline.Token);

        // The pong kept it: silence again brings another ping, and a request is still answered.
        (opcode, _) = await ReadFrameAsync(stream, deadline.Token);
        Assert.Equal(0x9, opcode);
        await WriteFrameAsync(stream, 0xA, [], deadline.Token);
        await WriteFrameAsync(stream, 0x1, """{"action":"heartbeat","request_id":"after-pings"}"""u8.ToArray(), deadline.Token);
        string reply;
        do
        {
            (opcode, payload) = await ReadFrameAsync(stream, deadline.Token);
            if (opcode == 0x9) await WriteFrameAsync(stream, 0xA, payload, deadline.Token);
            reply = opcode == 0x1 ? Encoding.UTF8.GetString(payload) : "";
        }
        while (opcode != 0x1);
        Assert.Contains("\"request_id\":\"after-pings\"", reply);
        Assert.Contains("\"code\":\"OK\"", reply);
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, ct) == 0) throw new EndOfStreamException("closed during the handshake: " + Encoding.ASCII.GetString([.. head]));
            head.Add(one[0]);
        }
        return Encoding.ASCII.GetString([.. head]);
    }

    /// <summary>One server frame (never masked, never fragmented by this server): opcode and payload.</summary>
    private static async Task<(int Opcode, byte[] Payload)> ReadFrameAsync(NetworkStream stream, CancellationToken ct)
    {
        var head = new byte[2];
        await stream.ReadExactlyAsync(head, ct);
        Assert.Equal(0x80, head[0] & 0x80); // FIN
        Assert.Equal(0, head[1] & 0x80);    // server frames are not masked
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await stream.ReadExactlyAsync(ext, ct);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await stream.ReadExactlyAsync(ext, ct);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, ct);
        return (head[0] & 0x0F, payload);
    }

    private static async Task WriteFrameAsync(NetworkStream stream, int opcode, byte[] payload, CancellationToken ct)
    {
        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        var frame = new List<byte> { (byte)(0x80 | opcode) };
        if (payload.Length < 126) frame.Add((byte)(0x80 | payload.Length));
        else
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        frame.AddRange(mask);
        for (int i = 0; i < payload.Length; i++) frame.Add((byte)(payload[i] ^ mask[i & 3]));
        await stream.WriteAsync(frame.ToArray(), ct);
    }
}
