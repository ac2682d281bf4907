using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using QkChat.Client;
using QkChat.IntegrationTests.Chat;
using QkChat.IntegrationTests.Groups;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Web;

/// <summary>protocol.md §11 over the real web listener (Kestrel, the gateway, a reactor): the chat protocol in WebSocket text messages.</summary>
public sealed class WebSocketGatewayTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_websocket_client_logs_in_and_heartbeats()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        var (_, name) = await h.CreateUserAsync();
        using var ws = await RawAsync(web.EndPoint.Port);

        await SendText(ws, $$"""{"action":"login","request_id":"r1","username":"{{name}}","password":"{{Password}}","client_id":"browser"}""");
        var login = await ReceiveJson(ws);
        Assert.Equal("r1", login.GetProperty("request_id").GetString());
        Assert.Equal("OK", login.GetProperty("code").GetString());

        await SendText(ws, """{"action":"heartbeat","request_id":"r2"}""");
        var beat = await ReceiveJson(ws);
        Assert.Equal("r2", beat.GetProperty("request_id").GetString());
        Assert.Equal("OK", beat.GetProperty("code").GetString());
        Assert.Equal(1, h.Server.Engine.Reactors.Sum(r => Volatile.Read(ref r.Stats.OpenWebSocketConnections)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Tcp_and_websocket_devices_see_identical_messages_and_group_seqs()
    {
        await using var h = await ChatHarness.StartAsync();
        await h.StartWebAsync();
        var (aId, aName) = await h.CreateUserAsync();
        var (bId, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(aId, bId);
        var aTcp = await h.LoginAsync(aName, "phone");
        var aWeb = await h.LoginWebSocketAsync(aName, "browser");
        var bWeb = await h.LoginWebSocketAsync(bName, "browser");

        // One-to-one, both ways: B (WebSocket) to A (TCP and WebSocket), then A from TCP to B.
        long toA = await SendOk(bWeb, aId, "hello from the browser");
        var onTcp = await Push(aTcp, "message");
        var onWeb = await Push(aWeb, "message");
        Assert.Equal(toA, onTcp.Data!.Value.GetProperty("message_id").GetInt64());
        Assert.Equal(onTcp.Data.Value.GetRawText(), onWeb.Data!.Value.GetRawText());
        long toB = await SendOk(aTcp, bId, "hello from the terminal");
        Assert.Equal(toB, (await Push(bWeb, "message")).Data!.Value.GetProperty("message_id").GetInt64());
        Assert.Equal(toB, (await Push(aWeb, "message")).Data!.Value.GetProperty("message_id").GetInt64()); // A's other device

        // A group: entries from either kind of device reach both of A's devices with the same seq and body.
        var a = new Member(aId, aName, [aWeb, aTcp]);
        var b = new Member(bId, bName, [bWeb]);
        long group = await GroupKit.CreateAsync(a, "mixed", b);
        await Push(bWeb, "group_event");
        var seqs = new List<long>
        {
            await GroupKit.SendOk(bWeb, group, "from the browser"),
            await GroupKit.SendOk(aTcp, group, "from the terminal"),
        };
        // The first (from B) reaches both of A's devices as one frame; the second (from A's TCP device) reaches A's
        // other device and B. Each device of the sender but the sending one gets it (protocol.md §9).
        string firstOnTcp = (await Push(aTcp, "group_message")).Data!.Value.GetRawText();
        string firstOnWeb = (await Push(aWeb, "group_message")).Data!.Value.GetRawText();
        Assert.Equal(firstOnTcp, firstOnWeb);
        Assert.Equal(seqs[0], JsonDocument.Parse(firstOnWeb).RootElement.GetProperty("seq").GetInt64());
        var secondOnWeb = (await Push(aWeb, "group_message")).Data!.Value;
        var secondOnB = (await Push(bWeb, "group_message")).Data!.Value;
        Assert.Equal(seqs[1], secondOnWeb.GetProperty("seq").GetInt64());
        Assert.Equal(secondOnWeb.GetRawText(), secondOnB.GetRawText());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_oversize_message_gets_FRAME_TOO_LARGE_then_close_1009()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        using var ws = await RawAsync(web.EndPoint.Port);
        string big = $$"""{"action":"heartbeat","request_id":"big","pad":"{{new string('x', 70_000)}}"}""";
        await SendText(ws, big);
        var error = await ReceiveJson(ws);
        Assert.Equal("error", error.GetProperty("action").GetString()); // the error push comes first, then the close frame
        Assert.Equal(ErrorCodes.FrameTooLarge, error.GetProperty("data").GetProperty("code").GetString());
        await ExpectCloseAsync(ws, WebSocketCloseStatus.MessageTooBig);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_binary_message_gets_BAD_FRAME_then_close_1003()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        using var ws = await RawAsync(web.EndPoint.Port);
        await ws.SendAsync("""{"action":"heartbeat","request_id":"b"}"""u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var error = await ReceiveJson(ws);
        Assert.Equal("error", error.GetProperty("action").GetString());
        Assert.Equal(ErrorCodes.BadFrame, error.GetProperty("data").GetProperty("code").GetString());
        await ExpectCloseAsync(ws, WebSocketCloseStatus.InvalidMessageType);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_message_in_fragments_is_one_request()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        using var ws = await RawAsync(web.EndPoint.Port);
        byte[] json = """{"action":"heartbeat","request_id":"in-three-parts"}"""u8.ToArray();
        await ws.SendAsync(json.AsMemory(0, 10), WebSocketMessageType.Text, false, CancellationToken.None);
        await ws.SendAsync(json.AsMemory(10, 20), WebSocketMessageType.Text, false, CancellationToken.None);
        await ws.SendAsync(json.AsMemory(30), WebSocketMessageType.Text, true, CancellationToken.None);
        var answer = await ReceiveJson(ws);
        Assert.Equal("in-three-parts", answer.GetProperty("request_id").GetString());
        Assert.Equal("OK", answer.GetProperty("code").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_foreign_origin_gets_403_and_the_own_origin_or_a_listed_one_is_let_in()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        int port = web.EndPoint.Port;
        using (var probe = new ClientWebSocket())
        {
            probe.Options.CollectHttpResponseDetails = true;
            probe.Options.SetRequestHeader("Origin", "http://evil.example");
            await Assert.ThrowsAsync<WebSocketException>(() => probe.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, probe.HttpStatusCode);
        }
        using var own = await RawAsync(port, origin: $"http://127.0.0.1:{port}");
        await SendText(own, """{"action":"heartbeat","request_id":"own"}""");
        Assert.Equal("own", (await ReceiveJson(own)).GetProperty("request_id").GetString());

        await using var listed = await ChatHarness.StartAsync();
        var other = await listed.StartWebAsync(o => o.AllowedOrigins = "https://chat.example.org, http://localhost:3000");
        using var fromList = await RawAsync(other.EndPoint.Port, origin: "https://chat.example.org");
        await SendText(fromList, """{"action":"heartbeat","request_id":"listed"}""");
        Assert.Equal("listed", (await ReceiveJson(fromList)).GetProperty("request_id").GetString());
        // A list replaces the default: the listener's own origin is then refused unless listed.
        await Assert.ThrowsAsync<WebSocketException>(() => RawAsync(other.EndPoint.Port, origin: $"http://127.0.0.1:{other.EndPoint.Port}"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Login_timeout_closes_a_websocket_with_a_close_frame()
    {
        await using var h = await ChatHarness.StartAsync(chat: c => c.LoginTimeout = TimeSpan.FromSeconds(1));
        var web = await h.StartWebAsync();
        using var ws = await RawAsync(web.EndPoint.Port);
        // The session rules are the TCP ones (protocol.md §4): no login within the timeout closes the connection.
        var buffer = new byte[4096];
        WebSocketReceiveResult result;
        do result = await ws.ReceiveAsync(buffer, CancellationToken.None);
        while (result.MessageType != WebSocketMessageType.Close);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Fact(Timeout = 60_000)]
    public async Task Idle_timeout_closes_a_logged_in_websocket_with_a_close_frame()
    {
        await using var h = await ChatHarness.StartAsync(chat: c => c.IdleTimeout = TimeSpan.FromSeconds(2));
        await h.StartWebAsync();
        var (_, name) = await h.CreateUserAsync();
        var idle = await h.LoginWebSocketAsync(name, "idle");
        await Ok(idle.RequestAsync("heartbeat", _ => { })); // a frame after login starts the idle clock (protocol.md §4)
        var closed = await idle.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ChatCloseReason.ServerClosed, closed.Reason);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, idle.WebSocketCloseStatus);
    }

    [Fact(Timeout = 120_000)] // a thousand handshakes and logins' worth of heartbeats on a loaded 2-core box
    public async Task A_thousand_websocket_connections_at_once_each_heartbeat()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        var uri = new Uri($"ws://127.0.0.1:{web.EndPoint.Port}/ws");
        var clients = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ =>
            ChatClient.ConnectWebSocketAsync(uri, new ChatClientOptions { LocalAddress = Accounts.AccountsHarness.RandomLoopback(), ConnectTimeout = TimeSpan.FromSeconds(60) })));
        try
        {
            var answers = await Task.WhenAll(clients.Select(c => c.RequestAsync("heartbeat", _ => { })));
            Assert.All(answers, a => Assert.Equal(ErrorCodes.Ok, a.Code));
            Assert.Equal(1000, h.Server.Engine.Reactors.Sum(r => Volatile.Read(ref r.Stats.OpenWebSocketConnections)));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
        await Wait.UntilAsync(() => h.Server.Engine.OpenConnections == 0, "every WebSocket connection closed", TimeSpan.FromSeconds(60));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_web_listener_serves_https_and_wss_with_the_chat_certificate()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync(certificate: TestCertificates.Write(ecdsa: true));
        Assert.True(web.IsTls);
        var (_, name) = await h.CreateUserAsync();
        await using var client = await ChatClient.ConnectWebSocketAsync(new Uri($"wss://127.0.0.1:{web.EndPoint.Port}/ws"), new ChatClientOptions
        {
            CertificateValidation = (_, _, _, _) => true,
            TlsTargetHost = "localhost",
        });
        await Ok(Accounts.AccountsHarness.Login(client, name, Password, "secure-browser"));
        await Ok(client.RequestAsync("heartbeat", _ => { }));
    }

    private static async Task ExpectCloseAsync(ClientWebSocket ws, WebSocketCloseStatus status)
    {
        var buffer = new byte[4096];
        var result = await ws.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(status, ws.CloseStatus);
    }

    internal static async Task<ClientWebSocket> RawAsync(int port, string? origin = null)
    {
        var ws = new ClientWebSocket();
        if (origin is not null) ws.Options.SetRequestHeader("Origin", origin);
        try
        {
            await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), CancellationToken.None);
        }
        catch
        {
            ws.Dispose();
            throw;
        }
        return ws;
    }

    internal static Task SendText(ClientWebSocket ws, string json) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    internal static async Task<JsonElement> ReceiveJson(ClientWebSocket ws)
    {
        var buffer = new byte[1 << 20];
        int length = 0;
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage) break;
        }
        return JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
    }
}
