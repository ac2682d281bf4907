using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;
using static QkChat.IntegrationTests.Audit.AuditEventTests;

namespace QkChat.IntegrationTests.Audit;

/// <summary>get_security_events (protocol.md §5, §8): my own events only, newest first, paged by event id.</summary>
public sealed class SecurityEventsTests
{
    private static Task<Envelope> Get(ChatClient c, int? limit = null, long? before = null) =>
        c.RequestAsync("get_security_events", w =>
        {
            if (limit is { } l) w.WriteNumber("limit", l);
            if (before is { } b) w.WriteNumber("before", b);
        });

    [Fact(Timeout = 60_000)]
    public async Task A_user_pages_through_their_own_events_newest_first_and_sees_nobody_elses()
    {
        await using var h = await AuditHarness.StartAsync();
        var ip = RandomLoopback();
        await using var alice = await h.ConnectAsync(ip);
        var (_, aliceName, _, alicePassword) = await RegisterAsync(h, alice);
        Assert.Equal(ErrorCodes.InvalidCredentials, (await LoginOn(alice, aliceName, "wrong password!", "phone")).Code);
        // From Alice's address, a failure for a name that does not exist: it has no user, so nobody sees it.
        Assert.Equal(ErrorCodes.InvalidCredentials, (await LoginOn(alice, "ghost_" + aliceName, "wrong password!", "phone")).Code);
        await Ok(LoginOn(alice, aliceName, alicePassword, "phone", "Pixel 8"));
        await using var bob = await h.ConnectAsync(RandomLoopback());
        var (_, bobName, _, bobPassword) = await RegisterAsync(h, bob);
        await Ok(LoginOn(bob, bobName, bobPassword, "phone"));
        await h.FlushAsync();

        var all = Events(Data(await Ok(Get(alice))));
        Assert.Equal(["login", "login_failed"], all.Select(e => e.GetProperty("event").GetString()));
        var ids = all.Select(e => e.GetProperty("event_id").GetInt64()).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        var login = all[0];
        Assert.Equal("phone", login.GetProperty("client_id").GetString());
        Assert.Equal("Pixel 8", login.GetProperty("device").GetString());
        Assert.Equal(ip.ToString(), login.GetProperty("ip").GetString());
        Assert.Equal("ok", login.GetProperty("outcome").GetString());
        Assert.InRange(login.GetProperty("at").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(),
            DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        Assert.Equal("failed", all[1].GetProperty("outcome").GetString());
        Assert.Equal(JsonValueKindNull, all[1].GetProperty("device").ValueKind);

        var first = Events(Data(await Ok(Get(alice, limit: 1))));
        Assert.Equal(ids[0], Assert.Single(first).GetProperty("event_id").GetInt64());
        var second = Events(Data(await Ok(Get(alice, limit: 1, before: ids[0]))));
        Assert.Equal(ids[1], Assert.Single(second).GetProperty("event_id").GetInt64());
        Assert.Empty(Events(Data(await Ok(Get(alice, before: ids[1])))));

        var bobs = Events(Data(await Ok(Get(bob))));
        Assert.Equal(["login"], bobs.Select(e => e.GetProperty("event").GetString()));
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [Fact(Timeout = 60_000)]
    public async Task Limits_and_ids_out_of_range_are_refused_and_a_login_is_needed()
    {
        await using var h = await AuditHarness.StartAsync();
        await using var c = await h.ConnectAsync(RandomLoopback());
        Assert.Equal(ErrorCodes.Unauthenticated, (await Get(c)).Code);
        var (_, name, _, password) = await RegisterAsync(h, c);
        await Ok(LoginOn(c, name, password, "phone"));
        foreach (var bad in new[] { Get(c, limit: 0), Get(c, limit: 101), Get(c, before: 0), Get(c, before: -5) })
        {
            var answer = await bad;
            Assert.Equal(ErrorCodes.InvalidArgument, answer.Code);
            Assert.Matches("^(limit|before):", answer.Message);
        }
        var wrongType = await c.RequestAsync("get_security_events", w => w.WriteString("limit", "ten"));
        Assert.Equal(ErrorCodes.InvalidArgument, wrongType.Code);
        Assert.StartsWith("limit:", wrongType.Message);
        await h.FlushAsync();
        Assert.Single(Events(Data(await Ok(Get(c, limit: 100)))));
    }
}
