using QkChat.Core.Presence;
using QkChat.Client;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Presence;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// Every Redis use of the server against a 3-master Redis Cluster (issue 19 point 1): the scripts with several keys
/// (failed-login budget, verification codes) need those keys in one slot, and deleting several session tokens at
/// once must not send one DEL across slots. Before the hash tags and the per-key DEL each of these failed with
/// CROSSSLOT (answered UNAVAILABLE).
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterRedisTests(RedisClusterFixture cluster)
{
    [Fact(Timeout = 120_000)]
    public async Task Registration_codes_and_the_failed_login_budget_work_on_a_cluster()
    {
        Assert.SkipWhen(cluster.Missing is not null, cluster.Missing ?? "");
        await using var h = await StartAsync(redisEndpoints: cluster.Endpoints);
        await using var c = await h.ConnectAsync();
        var (name, email, password) = await h.RegisterAsync(c); // code issue, check and consume: 6- and 3-key scripts
        // The cooldown of the same address (protocol.md §5): one script, one slot.
        var again = await c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "reset_password"); });
        Assert.Equal(ErrorCodes.Ok, again.Code);
        var third = await c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "reset_password"); });
        Assert.Equal(ErrorCodes.RateLimited, third.Code);

        // 10 wrong passwords per account, then RATE_LIMITED; the right one is refused too until the window ends.
        for (int i = 0; i < 10; i++)
            Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(c, name, "a wrong password!")).Code);
        Assert.Equal(ErrorCodes.RateLimited, (await Login(c, name, password)).Code);
        await Ok(c.RequestAsync("check_username", w => w.WriteString("username", UniqueName())));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_password_change_revokes_the_tokens_of_every_other_device_on_a_cluster()
    {
        Assert.SkipWhen(cluster.Missing is not null, cluster.Missing ?? "");
        await using var h = await StartAsync(redisEndpoints: cluster.Endpoints);
        string name, password;
        await using (var registrar = await h.ConnectAsync())
            (name, _, password) = await h.RegisterAsync(registrar);
        // Four devices: their token keys fall on different slots (and masters) with near certainty.
        var tokens = new List<(string ClientId, string Token)>();
        foreach (string device in new[] { "phone", "tablet", "laptop", "desk" })
        {
            await using var d = await h.ConnectAsync();
            var login = await Ok(Login(d, name, password, device));
            tokens.Add((device, Data(login).GetProperty("token").GetString()!));
        }
        await using (var phone = await h.ConnectAsync())
        {
            await Ok(Login(phone, name, password, "phone2"));
            await Ok(phone.RequestAsync("change_password", w => { w.WriteString("old_password", password); w.WriteString("new_password", password + "!"); }));
        }
        foreach (var (device, token) in tokens)
        {
            await using var d = await h.ConnectAsync();
            var resumed = await d.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", device); });
            Assert.Equal(ErrorCodes.TokenInvalid, resumed.Code);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_presence_directory_works_on_a_cluster()
    {
        Assert.SkipWhen(cluster.Missing is not null, cluster.Missing ?? "");
        await using var h = await StartAsync(redisEndpoints: cluster.Endpoints);
        var ct = TestContext.Current.CancellationToken;
        // Two nodes' view of one table (numbers no live node holds here): both scripts and the reap touch a user's presence
        // and device-registry hashes together, which a Cluster runs only because they share the user's hash tag.
        var a = new RedisPresenceDirectory(h.Redis, 14);
        var b = new RedisPresenceDirectory(h.Redis, 15);
        uint user = (uint)Random.Shared.Next(100_000_000, 999_999_999);
        Assert.Equal(new ClusterChange(user, PresenceStatus.Offline, PresenceStatus.Online), await a.SetDeviceAsync(user, "phone", PresenceStatus.Online, ct));
        Assert.Equal(new ClusterChange(user, PresenceStatus.Online, PresenceStatus.Online), await b.SetDeviceAsync(user, "tablet", PresenceStatus.Busy, ct));
        // The phone going leaves the tablet: busy now, and node 15's offline step for the phone (not its device) is nothing.
        Assert.Equal(new ClusterChange(user, PresenceStatus.Online, PresenceStatus.Online), await b.SetDeviceAsync(user, "phone", PresenceStatus.Offline, ct));
        Assert.Equal(new ClusterChange(user, PresenceStatus.Online, PresenceStatus.Busy), await a.SetDeviceAsync(user, "phone", PresenceStatus.Offline, ct));
        // Node 15 dies: its reap by either node takes the tablet out, once.
        Assert.Equal([new ClusterChange(user, PresenceStatus.Busy, PresenceStatus.Offline)], await a.ReapNodeAsync(15, ct));
        Assert.Empty(await b.ReapNodeAsync(15, ct));
        Assert.False(await h.Redis.GetDatabase().KeyExistsAsync(RedisPresenceDirectory.UsersKey(15)));
    }
}
