using System.Net.Sockets;
using System.Net;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Transport;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

public sealed class LimitsAndTimeoutsTests
{
    /// <summary>A stand-in for login until accounts land: marks the session logged in.</summary>
    private static void TestLogin(QkChat.Core.Dispatch.ActionRouter router) =>
        router.Register("test_login", true, ctx => { ctx.Session.LoggedIn = true; ctx.Respond("OK", "ok"); });

    [Fact(Timeout = 60_000)]
    public async Task Max_clients_refuses_with_SERVER_BUSY_and_a_closed_slot_is_reusable()
    {
        await using var server = InProcessServer.Start(t => t.MaxClients = 3);
        var clients = new List<RawClient>();
        for (int i = 0; i < 3; i++)
        {
            var c = await server.ConnectAsync();
            await c.SendAsync(RawClient.Heartbeat(i.ToString()));
            await c.ReadAsync();
            clients.Add(c);
        }
        using (var refused = await server.ConnectAsync())
        {
            var push = await refused.ReadAsync();
            Assert.Equal("SERVER_BUSY", push.Code());
            Assert.True(await refused.ClosedAsync());
        }
        clients[0].Dispose();
        await server.EventuallyAsync(() => server.Engine.Limiter.Total == 2, "slot released");
        using var again = await server.ConnectAsync();
        await again.SendAsync(RawClient.Heartbeat("again"));
        Assert.Equal("again", (await again.ReadAsync()).Str("request_id"));
        foreach (var c in clients.Skip(1)) c.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task The_per_address_limit_counts_each_source_address_separately()
    {
        await using var server = InProcessServer.Start(t => t.MaxClientsPerIp = 2);
        using var a1 = await server.ConnectAsync();
        using var a2 = await server.ConnectAsync();
        using var a3 = await server.ConnectAsync();
        Assert.Equal("SERVER_BUSY", (await a3.ReadAsync()).Code());
        using var b1 = await server.ConnectAsync(IPAddress.Parse("127.0.0.2"));
        await b1.SendAsync(RawClient.Heartbeat("b"));
        Assert.Equal("b", (await b1.ReadAsync()).Str("request_id"));
        Assert.Contains(RejectReason.MaxClientsPerIp, server.Rejections);
    }

    [Fact(Timeout = 60_000)]
    public async Task Rapid_connect_close_cycles_leave_no_connection_or_count_behind()
    {
        await using var server = InProcessServer.Start(t => t.MaxClients = 50);
        for (int i = 0; i < 300; i++)
        {
            using var c = await server.ConnectAsync();
            if (i % 3 == 0) await c.SendAsync(RawClient.Heartbeat("x"));
            if (i % 5 == 0) c.Socket.LingerState = new LingerOption(true, 0); // abortive close: a reset
        }
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 0 && server.Engine.Limiter.Total == 0, "all released");
        using var last = await server.ConnectAsync();
        await last.SendAsync(RawClient.Heartbeat("alive"));
        Assert.Equal("alive", (await last.ReadAsync()).Str("request_id"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_that_does_not_log_in_is_closed_at_the_login_timeout_even_while_heartbeating()
    {
        await using var server = InProcessServer.Start(chat: c => c.LoginTimeout = TimeSpan.FromSeconds(1));
        using var client = await server.ConnectAsync();
        await client.SendAsync(RawClient.Heartbeat("1"));
        await client.ReadAsync();
        var push = await client.ReadAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("error", push.Str("action"));
        Assert.Equal("UNAUTHENTICATED", push.Code());
        Assert.True(await client.ClosedAsync());
        // Counted at the final close, after the half-closed linger: the peer's own close ends it here.
        client.Dispose();
        await server.EventuallyAsync(() => server.ClosedFor(CloseReason.Timeout) == 1, "counted as a timeout");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_logged_in_connection_stays_while_it_sends_and_is_closed_when_idle()
    {
        await using var server = InProcessServer.Start(
            chat: c => { c.IdleTimeout = TimeSpan.FromSeconds(5); c.LoginTimeout = TimeSpan.FromSeconds(1); },
            routes: (router, _) => TestLogin(router));
        using var client = await server.ConnectAsync();
        await client.SendJsonAsync("""{"action":"test_login","request_id":"l"}""");
        await client.ReadAsync();
        // 6 s of heartbeats every 0.5 s: longer than the 5 s idle timeout, still open. A gap between two heartbeats
        // would have to stretch past 4.5 s on a loaded box to close it early, ten times the intended gap.
        for (int i = 0; i < 12; i++)
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            await client.SendAsync(RawClient.Heartbeat(i.ToString()));
            Assert.Equal(i.ToString(), (await client.ReadAsync()).Str("request_id"));
        }
        var kicked = await client.ReadAsync(TimeSpan.FromSeconds(30)); // the 5 s timeout, and room for a loaded box
        Assert.Equal("kicked", kicked.Str("action"));
        Assert.Equal("idle_timeout", kicked.GetProperty("data").Str("reason"));
        Assert.True(await client.ClosedAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task Requests_over_the_rate_get_RATE_LIMITED_with_a_retry_hint()
    {
        // One token a second: the burst (3) answers the first three; the next token comes 1 s later, and six heartbeats
        // sent in one ~300-byte write are read and handled together, so a refill in between would need the reactor to
        // stall a whole second inside one read (at 5 a second, a 200 ms stall was enough to let a fourth one through).
        await using var server = InProcessServer.Start(chat: c => { c.RequestsPerSecond = 1; c.RequestBurst = 3; });
        using var client = await server.ConnectAsync();
        await client.SendAsync(Enumerable.Range(0, 6).SelectMany(i => RawClient.Heartbeat(i.ToString())).ToArray());
        var codes = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var r = await client.ReadAsync();
            Assert.Equal(i.ToString(), r.Str("request_id"));
            codes.Add(r.Str("code"));
            if (r.Str("code") == "RATE_LIMITED") Assert.InRange(r.GetProperty("data").GetProperty("retry_after_ms").GetInt32(), 1, 1000);
        }
        Assert.Equal(["OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"], codes);
    }
}
