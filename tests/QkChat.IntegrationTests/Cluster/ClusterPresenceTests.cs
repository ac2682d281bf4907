using QkChat.Client;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19 / protocol.md §12: presence aggregates the devices on all nodes and is pushed once per change of what
/// friends see, whatever node anyone is on; a node killed without a goodbye counts offline within 30 s (docs/cluster.md,
/// "Presence").
/// </summary>
public sealed class ClusterPresenceTests
{
    // Three processes start one after the other on a loaded 2-core box (each ~5-10 s), then the test itself.
    private const int ClusterTimeout = 180_000;

    // The SIGKILL test waits for a 15 s lease to lapse on top (the default TTL: the real bound, not a shortened one).
    private const int KillTimeout = 240_000;

    private const int SIGKILL = 9;

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_friend_on_a_third_node_sees_one_offline_when_the_last_of_two_nodes_devices_goes()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        var (u, uName) = await kit.CreateUserAsync();
        var (f, fName) = await kit.CreateUserAsync();
        var (v, vName) = await kit.CreateUserAsync();
        var (w, wName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(u, f);
        await kit.MakeFriendsAsync(v, f);
        await kit.MakeFriendsAsync(w, f);
        var phone = await kit.LoginAsync(0, uName, u, "phone");
        var tablet = await kit.LoginAsync(1, uName, u, "tablet");
        await WaitPresenceAsync(kit, u, "tablet", present: true);
        var friend = await kit.LoginAsync(2, fName, f, "laptop");
        // Read over all nodes: the friend on node 2 sees u online; u's tablet on node 1 sees its phone on node 0 online.
        var list = await Ok(friend.GetFriendListAsync());
        Assert.Equal("online", list.GetProperty("friends").EnumerateArray().Single(e => e.GetProperty("user_id").GetUInt32() == u)
            .GetProperty("status").GetString());
        var sessions = await Ok(tablet.GetSessionsAsync());
        Assert.True(sessions.GetProperty("sessions").EnumerateArray().Single(e => e.GetProperty("client_id").GetString() == "phone")
            .GetProperty("online").GetBoolean());

        // The phone goes: the tablet on node 1 keeps u online, so node 0 must not tell anyone.
        await phone.DisposeAsync();
        await WaitPresenceAsync(kit, u, "phone", present: false);
        // Marker through node 0's presence worker and its route to node 2: v comes online there after the phone's step.
        await kit.LoginAsync(0, vName, v, "phone");
        var first = await NextPresenceAsync(friend);
        Assert.Equal((v, "online"), first);

        // The tablet goes: the last device anywhere, so exactly one offline.
        await tablet.DisposeAsync();
        Assert.Equal((u, "offline"), await NextPresenceAsync(friend));
        // Marker through node 1 (the node that decided): nothing more about u comes before w's online.
        await kit.LoginAsync(1, wName, w, "phone");
        Assert.Equal((w, "online"), await NextPresenceAsync(friend));
    }

    [Fact(Timeout = KillTimeout)]
    public async Task A_killed_nodes_users_go_offline_for_friends_on_every_other_node_once()
    {
        // Its own redis-server: the nodes of tests running beside this one (other databases, one shared Redis) would see
        // the lease lapse too and could take the reap of this deployment's users, and tell nobody (its friends are not in
        // their database). One Redis per deployment is what production has.
        int redisPort = ServerProcess.FreePort();
        await using var redis = ExternalProcess.Start("redis-server",
            ["--port", redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], workingDirectory: Path.GetTempPath());
        await redis.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        await using var kit = await ClusterKit.StartAsync(3, redisPort);
        var (u, uName) = await kit.CreateUserAsync();
        var (f1, f1Name) = await kit.CreateUserAsync();
        var (f2, f2Name) = await kit.CreateUserAsync();
        var (v1, v1Name) = await kit.CreateUserAsync();
        var (v2, v2Name) = await kit.CreateUserAsync();
        // Pairs only: f1 and f2 are not friends, so neither hears of the other's login.
        foreach (uint friend in new[] { f1, f2 })
            foreach (uint other in new[] { u, v1, v2 })
                await kit.MakeFriendsAsync(friend, other);
        int dead = kit.NodeIdOf(0);
        var victim = await kit.LoginAsync(0, uName, u, "phone");
        await WaitPresenceAsync(kit, u, "phone", present: true);
        var friend1 = await kit.LoginAsync(1, f1Name, f1, "laptop");
        var friend2 = await kit.LoginAsync(2, f2Name, f2, "laptop");
        // Acknowledged before the kill: it must reach u on the node u reconnects to.
        long before = await SendOk(friend1, u, "before the kill");

        var killedAt = Environment.TickCount64;
        kit.Nodes[0].Signal(SIGKILL);
        // Generous deadline 60 s; the bound is 30 s (a 15 s lease, read every second) and the time is reported.
        var deadline = TimeSpan.FromSeconds(60);
        Assert.Equal((u, "offline"), await NextPresenceAfterLoginAsync(friend1, u, deadline));
        Assert.Equal((u, "offline"), await NextPresenceAfterLoginAsync(friend2, u, deadline));
        long seconds = (Environment.TickCount64 - killedAt) / 1000;
        TestContext.Current.SendDiagnosticMessage($"presence offline {seconds} s after SIGKILL");

        // Every live node has reaped by now (each logs it), so a second push would be on its way before a marker that
        // each node sends after its reap: v1 comes online through node 1, v2 through node 2.
        foreach (int node in new[] { 1, 2 })
            await kit.Nodes[node].WaitForOutputAsync($"presence: node {dead} holds no lease", deadline);
        await kit.LoginAsync(1, v1Name, v1, "phone");
        await kit.LoginAsync(2, v2Name, v2, "phone");
        foreach (var friend in new[] { friend1, friend2 })
        {
            var seen = new List<(uint, string)> { await NextPresenceAsync(friend), await NextPresenceAsync(friend) };
            Assert.Equal(new[] { (v1, "online"), (v2, "online") }.Order(), seen.Order());
        }

        // u reconnects to another node and loses nothing acknowledged.
        _ = victim;
        var again = await kit.LoginAsync(1, uName, u, "phone");
        var synced = await Ok(again.RequestAsync("sync_messages", wr => wr.WriteNumber("after_message_id", 0)));
        Assert.Contains(before, Ids(synced.GetProperty("messages")));
    }

    /// <summary>
    /// The next presence push after any late `online` of <paramref name="user"/>: u's node writes the presence table
    /// (what the test waits for) before it looks up which friends to tell, so a friend logging in on another node in
    /// between is told `online` too, correctly, after its own login (seen once on the loaded 2-core box).
    /// </summary>
    private static async Task<(uint, string)> NextPresenceAfterLoginAsync(ChatClient client, uint user, TimeSpan timeout)
    {
        var next = await NextPresenceAsync(client, timeout);
        return next == (user, "online") ? await NextPresenceAsync(client, timeout) : next;
    }

    /// <summary>The next presence push: (user_id, status).</summary>
    private static async Task<(uint, string)> NextPresenceAsync(ChatClient client, TimeSpan? timeout = null)
    {
        var push = (await client.WaitForPushAsync(PushNames.Presence, timeout ?? Patience)).Data!.Value;
        return (push.GetProperty("user_id").GetUInt32(), push.GetProperty("status").GetString()!);
    }

    /// <summary>Waits until the presence table has (or no longer has) the device: its node's worker has taken the step.</summary>
    private static async Task WaitPresenceAsync(ClusterKit kit, uint user, string clientId, bool present)
    {
        // The field is the client id; the TTL-based directory before the table named it "host:port|client id", accepted
        // too so that this test runs (and fails for its own reasons) against that code.
        await Wait.UntilAsync(async () => (await kit.Redis.GetDatabase().HashKeysAsync("qk:presence:{" + user + "}"))
                .Any(f => f == clientId || ((string)f!).EndsWith("|" + clientId, StringComparison.Ordinal)) == present,
            $"presence of {user}/{clientId} {(present ? "written" : "removed")}");
    }
}
