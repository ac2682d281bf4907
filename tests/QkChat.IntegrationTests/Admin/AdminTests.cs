using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Admin;

/// <summary>issue 8: /metrics, /healthz, /readyz, /status, the token, and the listener's separation from chat.</summary>
public sealed class AdminTests
{
    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 100; i++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        Assert.Fail("never: " + what);
    }

    [Fact(Timeout = 60_000)]
    public async Task Metrics_parse_as_Prometheus_text_and_move_as_clients_connect_chat_and_leave()
    {
        await using var h = await AdminHarness.StartAsync();
        var before = AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);
        Assert.Equal(0, AdminHarness.Sum(before, "qkchat_connections"));

        var (a, aName) = await h.Chat.CreateUserAsync();
        var (b, bName) = await h.Chat.CreateUserAsync();
        var (c, _) = await h.Chat.CreateUserAsync();
        await h.Chat.MakeFriendsAsync(a, b);
        await h.Chat.MakeFriendsAsync(a, c);
        var alice = await h.Chat.LoginAsync(aName);
        var bob = await h.Chat.LoginAsync(bName);
        long sent = await SendOk(alice, b, "counted");
        await SendOk(alice, c, "for later"); // c has no device online
        await Ok(bob.RequestAsync("mark_read", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("up_to_message_id", sent); }));
        var during = AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);
        Assert.Equal(1, AdminHarness.Sum(during, "qkchat_messages_queued_offline_total"));
        Assert.Equal(1, AdminHarness.Sum(during, "qkchat_messages_read_total"));
        Assert.True(AdminHarness.Sum(during, "qkchat_frames_out_total") >= 5, "login and send answers, the push, mark_read's answer");
        Assert.Equal(2, AdminHarness.Sum(during, "qkchat_connections"));
        Assert.Equal(2, AdminHarness.Sum(during, "qkchat_devices_online"));
        Assert.True(AdminHarness.Sum(during, "qkchat_messages_stored_total") >= 1);
        Assert.True(AdminHarness.Sum(during, "qkchat_bytes_in_bytes_total") > AdminHarness.Sum(before, "qkchat_bytes_in_bytes_total"));
        Assert.Equal(1, AdminHarness.Sum(during, "qkchat_redis_connected"));
        Assert.Contains("qkchat_closed_total{reason=\"PeerClosed\"}", during.Keys);

        await alice.DisposeAsync();
        await bob.DisposeAsync();
        await Eventually(async () =>
        {
            var after = AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);
            return AdminHarness.Sum(after, "qkchat_connections") == 0 && AdminHarness.Sum(after, "qkchat_devices_online") == 0
                && AdminHarness.Sum(after, "qkchat_closed_total") >= 2;
        }, "connections back to 0 and two closes counted");
    }

    [Fact(Timeout = 60_000)]
    public async Task Health_status_and_the_dashboard_page_are_served()
    {
        await using var h = await AdminHarness.StartAsync();
        Assert.Equal((200, "ok\n"), await h.GetAsync("healthz"));
        var (code, ready) = await h.GetAsync("readyz");
        Assert.Equal(200, code);
        Assert.True(JsonDocument.Parse(ready).RootElement.GetProperty("ready").GetBoolean());
        var status = JsonDocument.Parse((await h.GetAsync("status")).Body).RootElement;
        Assert.False(string.IsNullOrEmpty(status.GetProperty("version").GetString()));
        Assert.Equal(2, status.GetProperty("reactors").GetArrayLength());
        Assert.Equal(h.Chat.Server.Port.ToString(), status.GetProperty("config").GetProperty("server.port").GetString());
        var page = await h.GetAsync("");
        Assert.Equal(200, page.Status);
        Assert.Contains("<title>qkchatd</title>", page.Body);
        Assert.DoesNotContain("http://", page.Body.Replace("http://www.w3.org", "")); // no CDN or remote asset
    }

    [Fact(Timeout = 60_000)]
    public async Task Readyz_turns_unready_while_Redis_is_down_and_ready_when_it_returns()
    {
        int port = ServerProcess.FreePort();
        Process StartRedis() => ChildProcesses.Track(Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!);
        var redis = StartRedis();
        try
        {
            await Eventually(async () => { try { using var p = await RawClient.ConnectAsync(port); return true; } catch (SocketException) { return false; } }, "redis up");
            await using var h = await AdminHarness.StartAsync(redisPort: port);
            Assert.Equal(200, (await h.GetAsync("readyz")).Status);
            redis.Kill();
            await redis.WaitForExitAsync();
            var (code, body) = await h.GetAsync("readyz");
            Assert.Equal(503, code);
            Assert.NotEqual("ok", JsonDocument.Parse(body).RootElement.GetProperty("checks").GetProperty("redis").GetString());
            Assert.Equal("ok", JsonDocument.Parse(body).RootElement.GetProperty("checks").GetProperty("mariadb").GetString());
            redis.Dispose();
            redis = StartRedis();
            await Eventually(async () => (await h.GetAsync("readyz")).Status == 200, "ready again after Redis returned");
        }
        finally
        {
            if (!redis.HasExited) redis.Kill();
            redis.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_token_is_enforced_when_set_and_the_chat_port_does_not_speak_HTTP()
    {
        await using var h = await AdminHarness.StartAsync(token: "s3cret-admin");
        Assert.Equal(401, (await h.GetAsync("metrics")).Status);
        Assert.Equal(401, (await h.GetAsync("metrics", bearer: "wrong")).Status);
        Assert.Equal(401, (await h.GetAsync("healthz")).Status);
        Assert.Equal(200, (await h.GetAsync("metrics", bearer: "s3cret-admin")).Status);
        // issue 16: the token travels in the Authorization header only; in the URL it would land in logs and history.
        Assert.Equal(401, (await h.GetAsync("api/dashboard?token=s3cret-admin")).Status);
        Assert.Equal(401, (await h.GetAsync("metrics?token=s3cret-admin")).Status);
        Assert.Equal(200, (await h.GetAsync("api/dashboard", bearer: "s3cret-admin")).Status);
        // The page itself is the same static file for everyone and holds no data: a browser opens it without a
        // header, and its script sends the token (asked for, kept in sessionStorage) in the header.
        var page = await h.GetAsync("");
        Assert.Equal(200, page.Status);
        Assert.Contains("Authorization", page.Body);

        // The chat port answers an HTTP request with a protocol error, never with the admin endpoints.
        using var raw = await RawClient.ConnectAsync(h.Chat.Server.Port);
        await raw.SendAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var error = await raw.ReadAsync();
        Assert.Equal("error", error.GetProperty("action").GetString());
        Assert.NotEqual(h.Chat.Server.Port, h.Admin.EndPoint!.Port);
    }
}
