using System.Net.Sockets;
using System.Text;
using QkChat.IntegrationTests.Chat;
using Xunit;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// The two ways in to `/ws` (docs/web.md, "Two ways in") decide every handshake alike: the same upgrade request is sent
/// once as a connection's first request (WebSocketConnectionMiddleware answers it, or leaves it to Kestrel) and once
/// after a `HEAD /` on the same kept-alive connection (always Kestrel's route, WebSocketGateway.HandleAsync). Status and
/// Sec-WebSocket-Accept must match, for allowed, foreign and missing origins and the case variants RFC 6455 and RFC 9110
/// allow. Which path answered is told by Kestrel's Date header, which the middleware's 101 does not carry.
/// </summary>
public sealed class WebSocketHandshakePathTests
{
    /// <summary>RFC 6455 §1.3's example key and its accept value.</summary>
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed record Case(string Name, int Expected, string[] Headers);

    private static Case[] Cases(int port)
    {
        string own = $"127.0.0.1:{port}";
        string[] Plain(params string[] extra) =>
            [$"Host: {own}", "Upgrade: websocket", "Connection: Upgrade", $"Sec-WebSocket-Key: {Key}", "Sec-WebSocket-Version: 13", .. extra];
        return
        [
            new("no Origin (not a browser)", 101, Plain()),
            new("the listener's own Origin", 101, Plain($"Origin: http://{own}")),
            new("the own Origin in capitals", 101, Plain($"Origin: HTTP://{own}")),
            new("Host and Origin by name, in other cases", 101,
                [$"Host: LocalHost:{port}", "Upgrade: websocket", "Connection: Upgrade", $"Sec-WebSocket-Key: {Key}", "Sec-WebSocket-Version: 13", $"Origin: http://localhost:{port}"]),
            new("header names and tokens in other cases", 101,
                [$"host: {own}", "UPGRADE: WebSocket", "connection: keep-alive, UPGRADE", $"sec-websocket-key: {Key}", "SEC-WEBSOCKET-VERSION: 13", $"ORIGIN: http://{own}"]),
            new("spaces and tabs around values", 101,
                [$"Host:  {own}", "Upgrade: \twebsocket ", "Connection:keep-alive ,  Upgrade", $"Sec-WebSocket-Key:   {Key}", "Sec-WebSocket-Version: 13 "]),
            new("a foreign Origin", 403, Plain("Origin: http://evil.example")),
            new("the own host over another scheme", 403, Plain($"Origin: https://{own}")),
            new("Origin null (a sandboxed page)", 403, Plain("Origin: null")),
            new("the own Origin with a path", 403, Plain($"Origin: http://{own}/")),
            new("version 8", 426, [$"Host: {own}", "Upgrade: websocket", "Connection: Upgrade", $"Sec-WebSocket-Key: {Key}", "Sec-WebSocket-Version: 8"]),
            new("a key of 15 bytes", 426, [$"Host: {own}", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ", "Sec-WebSocket-Version: 13"]),
            new("a Host that is not a host", 400, Plain().Select(h => h.StartsWith("Host:", StringComparison.Ordinal) ? "Host: 127.0.0.1 /x" : h).ToArray()),
        ];
    }

    [Fact(Timeout = 180_000)] // 2 x 13 handshakes on fresh connections, one server start, on a loaded 2-core box
    public async Task The_middleware_and_Kestrels_route_decide_every_handshake_alike()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        int port = web.EndPoint.Port;
        var differences = new List<string>();
        foreach (var c in Cases(port))
        {
            string request = "GET /ws HTTP/1.1\r\n" + string.Concat(c.Headers.Select(line => line + "\r\n")) + "\r\n";
            var first = await HandshakeAsync(port, request, viaKestrel: false);
            var after = await HandshakeAsync(port, $"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n" + request, viaKestrel: true);
            // Kestrel answers every status with a Date header; the middleware's own 101 has none. A case the middleware
            // takes proves it ran; the second request always reaches Kestrel's route (it is not a connection's first).
            Assert.True(after.Dated, $"{c.Name}: the request after HEAD / was not answered by Kestrel:\n{after.Head}");
            if (first.Status != after.Status || first.Accept != after.Accept)
                differences.Add($"{c.Name}: first request {first.Status} {first.Accept}, after HEAD / {after.Status} {after.Accept}");
            else if (first.Status != c.Expected)
                differences.Add($"{c.Name}: both {first.Status}, expected {c.Expected}");
            else if (first.Status == 101 && first.Accept != Accept)
                differences.Add($"{c.Name}: Sec-WebSocket-Accept {first.Accept}, RFC 6455 says {Accept}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
        // The plain handshake is the middleware's (no Date): the test drives both paths, not Kestrel twice.
        var plain = await HandshakeAsync(port, "GET /ws HTTP/1.1\r\n" + string.Concat(Cases(port)[0].Headers.Select(l => l + "\r\n")) + "\r\n", viaKestrel: false);
        Assert.False(plain.Dated, "the first-request upgrade was answered by Kestrel, not by the connection middleware:\n" + plain.Head);
    }

    private sealed record Answer(int Status, string? Accept, bool Dated, string Head);

    /// <summary>Sends <paramref name="bytes"/> on a fresh connection and reads the last response head (the second when
    /// <paramref name="viaKestrel"/>: the HEAD's answer has no body).</summary>
    private static async Task<Answer> HandshakeAsync(int port, string bytes, bool viaKestrel)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var deadline = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), deadline.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(bytes), SocketFlags.None, deadline.Token);
        int heads = viaKestrel ? 2 : 1;
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (Count(received.ToString(), "\r\n\r\n") < heads)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            if (n == 0) break;
            received.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
        string all = received.ToString();
        string[] parts = all.Split("\r\n\r\n");
        Assert.True(parts.Length > heads, $"fewer than {heads} response heads before the server closed:\n{all}");
        string head = parts[heads - 1];
        string[] lines = head.Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        string? accept = lines.Skip(1).Where(l => l.StartsWith("Sec-WebSocket-Accept:", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).SingleOrDefault();
        bool dated = lines.Skip(1).Any(l => l.StartsWith("Date:", StringComparison.OrdinalIgnoreCase));
        return new Answer(status, accept, dated, head);
    }

    private static int Count(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
