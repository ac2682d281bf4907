using System.Net;
using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

public sealed class SessionManagementTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static Task<Envelope> LoginOn(ChatClient client, string name, string password, string clientId, string device) =>
        client.RequestAsync("login", w =>
        {
            w.WriteString("username", name);
            w.WriteString("password", password);
            w.WriteString("client_id", clientId);
            w.WriteString("device", device);
        });

    private static Task<Envelope> Revoke(ChatClient client, string clientId) =>
        client.RequestAsync("revoke_session", w => w.WriteString("client_id", clientId));

    private static Task<Envelope> Resume(ChatClient client, string token, string clientId) =>
        client.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", clientId); });

    private static async Task<Dictionary<string, JsonElement>> SessionsAsync(ChatClient client)
    {
        var sessions = Data(await Ok(client.RequestAsync("get_sessions"))).GetProperty("sessions").EnumerateArray().ToList();
        var times = sessions.Select(s => s.GetProperty("last_active_at").GetInt64()).ToList();
        Assert.Equal(times.OrderDescending(), times); // most recently active first
        return sessions.ToDictionary(s => s.GetProperty("client_id").GetString()!);
    }

    /// <summary>Polls until the server has noticed a closed connection (its close runs on the server's own time).</summary>
    private static async Task<Dictionary<string, JsonElement>> SessionsOnceOfflineAsync(ChatClient client, string clientId)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var sessions = await SessionsAsync(client);
            if (!sessions[clientId].GetProperty("online").GetBoolean() || DateTime.UtcNow > deadline) return sessions;
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Devices_are_listed_with_their_state_and_an_online_one_can_be_revoked()
    {
        await using var h = await StartAsync();
        IPAddress phoneIp = RandomLoopback(), laptopIp = RandomLoopback();
        await using var phone = await h.ConnectAsync(phoneIp);
        var (name, _, password) = await h.RegisterAsync(phone);
        await Ok(LoginOn(phone, name, password, "phone", "Pixel 8"));
        await using var laptop = await h.ConnectAsync(laptopIp);
        string laptopToken = Data(await Ok(LoginOn(laptop, name, password, "laptop", "ThinkPad"))).GetProperty("token").GetString()!;
        string tabletToken;
        await using (var tablet = await h.ConnectAsync())
            tabletToken = Data(await Ok(LoginOn(tablet, name, password, "tablet", "iPad"))).GetProperty("token").GetString()!;

        var sessions = await SessionsOnceOfflineAsync(phone, "tablet");
        Assert.Equal(["laptop", "phone", "tablet"], sessions.Keys.Order());
        Assert.Equal("Pixel 8", sessions["phone"].GetProperty("device").GetString());
        Assert.Equal("ThinkPad", sessions["laptop"].GetProperty("device").GetString());
        Assert.Equal("iPad", sessions["tablet"].GetProperty("device").GetString());
        Assert.Equal(phoneIp.ToString(), sessions["phone"].GetProperty("last_ip").GetString());
        Assert.Equal(laptopIp.ToString(), sessions["laptop"].GetProperty("last_ip").GetString());
        Assert.True(sessions["phone"].GetProperty("online").GetBoolean());
        Assert.True(sessions["laptop"].GetProperty("online").GetBoolean());
        Assert.False(sessions["tablet"].GetProperty("online").GetBoolean());
        Assert.True(sessions["phone"].GetProperty("current").GetBoolean());
        Assert.False(sessions["laptop"].GetProperty("current").GetBoolean());
        Assert.False(sessions["tablet"].GetProperty("current").GetBoolean());

        await Ok(Revoke(phone, "laptop"));
        Assert.Equal("revoked", (await laptop.WaitForPushAsync("kicked", Wait)).Data!.Value.GetProperty("reason").GetString());
        await laptop.Closed.WaitAsync(Wait, TestContext.Current.CancellationToken);
        await Ok(phone.RequestAsync("heartbeat")); // the caller's own connection stays

        await using var again = await h.ConnectAsync();
        Assert.Equal(ErrorCodes.TokenInvalid, (await Resume(again, laptopToken, "laptop")).Code);
        Assert.Equal(["phone", "tablet"], (await SessionsAsync(phone)).Keys.Order());
        Assert.Equal(ErrorCodes.NotFound, (await Revoke(phone, "laptop")).Code); // already revoked

        // An offline device's token is revoked all the same.
        await Ok(Revoke(phone, "tablet"));
        Assert.Equal(ErrorCodes.TokenInvalid, (await Resume(again, tabletToken, "tablet")).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_and_malformed_client_ids_are_refused()
    {
        await using var h = await StartAsync();
        await using var phone = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(phone);
        await Ok(LoginOn(phone, name, password, "phone", "Pixel 8"));

        Assert.Equal(ErrorCodes.NotFound, (await Revoke(phone, "no-such-device")).Code);
        var missing = await phone.RequestAsync("revoke_session");
        Assert.Equal(ErrorCodes.InvalidArgument, missing.Code);
        Assert.StartsWith("client_id:", missing.Message);
        Assert.Equal(ErrorCodes.InvalidArgument, (await Revoke(phone, new string('x', 65))).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Session_actions_need_a_login()
    {
        await using var h = await StartAsync();
        await using var anon = await h.ConnectAsync();
        Assert.Equal(ErrorCodes.Unauthenticated, (await anon.RequestAsync("get_sessions")).Code);
        Assert.Equal(ErrorCodes.Unauthenticated, (await Revoke(anon, "phone")).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Another_users_devices_are_neither_listed_nor_revocable()
    {
        await using var h = await StartAsync();
        await using var alice = await h.ConnectAsync();
        var (aliceName, _, alicePassword) = await h.RegisterAsync(alice);
        await Ok(LoginOn(alice, aliceName, alicePassword, "alice-phone", "Alice's phone"));
        await using var bob = await h.ConnectAsync();
        var (bobName, _, bobPassword) = await h.RegisterAsync(bob);
        await Ok(LoginOn(bob, bobName, bobPassword, "bob-phone", "Bob's phone"));

        Assert.Equal(ErrorCodes.NotFound, (await Revoke(bob, "alice-phone")).Code);
        Assert.Equal(["bob-phone"], (await SessionsAsync(bob)).Keys);
        Assert.Equal(["alice-phone"], (await SessionsAsync(alice)).Keys);
        await Ok(alice.RequestAsync("heartbeat")); // untouched
    }

    [Fact(Timeout = 60_000)]
    public async Task The_same_client_id_in_two_accounts_is_two_devices_and_revoking_mine_leaves_theirs()
    {
        await using var h = await StartAsync();
        await using var alice = await h.ConnectAsync();
        var (aliceName, _, alicePassword) = await h.RegisterAsync(alice);
        string aliceToken = Data(await Ok(LoginOn(alice, aliceName, alicePassword, "phone", "Alice's phone"))).GetProperty("token").GetString()!;
        await using var bob = await h.ConnectAsync();
        var (bobName, _, bobPassword) = await h.RegisterAsync(bob);
        await Ok(LoginOn(bob, bobName, bobPassword, "phone", "Bob's phone"));

        await Ok(Revoke(bob, "phone")); // Bob's own "phone": he is kicked, Alice is not
        Assert.Equal("revoked", (await bob.WaitForPushAsync("kicked", Wait)).Data!.Value.GetProperty("reason").GetString());
        await Ok(alice.RequestAsync("heartbeat"));
        Assert.Equal("Alice's phone", (await SessionsAsync(alice))["phone"].GetProperty("device").GetString());
        await using var again = await h.ConnectAsync();
        await Ok(Resume(again, aliceToken, "phone")); // her token still works
    }

    [Fact(Timeout = 60_000)]
    public async Task Revoking_the_callers_own_device_answers_then_kicks_and_closes_it()
    {
        await using var h = await StartAsync();
        await using var phone = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(phone);
        string token = Data(await Ok(LoginOn(phone, name, password, "phone", "Pixel 8"))).GetProperty("token").GetString()!;

        await Ok(Revoke(phone, "phone"));
        Assert.Equal("revoked", (await phone.WaitForPushAsync("kicked", Wait)).Data!.Value.GetProperty("reason").GetString());
        await phone.Closed.WaitAsync(Wait, TestContext.Current.CancellationToken);

        await using var again = await h.ConnectAsync();
        Assert.Equal(ErrorCodes.TokenInvalid, (await Resume(again, token, "phone")).Code);
    }
}
