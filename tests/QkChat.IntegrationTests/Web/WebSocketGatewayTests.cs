using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using QkChat.IntegrationTests.Chat;
using Xunit;

namespace QkChat.IntegrationTests.Web;

/// <summary>protocol.md §11 over the real web listener: the chat protocol in WebSocket text messages.</summary>
public sealed class WebSocketGatewayTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_websocket_client_logs_in_and_heartbeats()
    {
        await using var h = await ChatHarness.StartAsync();
        var web = await h.StartWebAsync();
        var (_, name) = await h.CreateUserAsync();
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{web.EndPoint.Port}/ws"), CancellationToken.None);

        await SendText(ws, $$"""{"action":"login","request_id":"r1","username":"{{name}}","password":"{{ChatHarness.Password}}","client_id":"browser"}""");
        var login = await ReceiveJson(ws);
        Assert.Equal("r1", login.GetProperty("request_id").GetString());
        Assert.Equal("OK", login.GetProperty("code").GetString());

        await SendText(ws, """{"action":"heartbeat","request_id":"r2"}""");
        var beat = await ReceiveJson(ws);
        Assert.Equal("r2", beat.GetProperty("request_id").GetString());
        Assert.Equal("OK", beat.GetProperty("code").GetString());
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
