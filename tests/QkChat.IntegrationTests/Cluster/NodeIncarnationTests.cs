using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Cluster;
using QkChat.Server.Presence;
using StackExchange.Redis;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// A node killed and started again at once under the same number (systemd restarts a node with a fixed QKCHAT_NODE_ID as
/// soon as its lease lapses) while the dead process's devices are still being reaped: the reap must remove the dead
/// process's entries only, never those of the devices that already logged in on the new one (docs/cluster.md, "Node
/// death"). Registry and presence entries carry the lease's incarnation for this.
/// </summary>
public sealed class NodeIncarnationTests
{
    private const int SIGKILL = 9;

    // The dead process held this many more devices: enough that its reap is still running when the new process's
    // first users have logged in (a busy node holds thousands; reaping runs 1,000 users per round trip). 100,000 made the
    // reap outlast the test's deadline on the loaded box.
    private const int OtherDevices = 20_000;

    // Three node starts and two restarts (~10-20 s each on the loaded 2-core box), 20,000 devices written into Redis and
    // reaped (up to a minute there).
    [Fact(Timeout = 360_000)]
    public async Task Reaping_a_dead_process_keeps_the_devices_of_the_new_process_under_its_number()
    {
        // The reap of 20,000 devices takes tens of seconds on the loaded box: the logged-in users send nothing meanwhile.
        await using var kit = await ClusterKit.StartAsync(2, env: new Dictionary<string, string> { ["QKCHAT_IDLE_TIMEOUT_S"] = "600" });
        const int L = 0, N = 1;
        int number = kit.NodeIdOf(N);
        // The users set stays an intset (sorted), and user ids (random, at least FriendRules.MinUserId, 100,000,000) are above the
        // 20,000 others' (1..20,000): the reap reaches the users of the restarted node last.
        (await ExternalProcess.RunAsync("redis-cli", ["-p", kit.RedisPort.ToString(), "CONFIG", "SET", "set-max-intset-entries", "1000000"]))
            .EnsureSuccess("redis-cli CONFIG SET");

        var (w, wName) = await kit.CreateUserAsync();
        var users = new List<(uint Id, string Name)>();
        for (int i = 0; i < 4; i++) users.Add(await kit.CreateUserAsync());
        Assert.All(users, u => Assert.True(u.Id > OtherDevices));
        foreach (var (id, _) in users) await kit.MakeFriendsAsync(w, id);
        foreach (var (id, name) in users) await kit.LoginAsync(N, name, id, "phone");

        // The dead process's other devices, in the registry as it wrote its own (the same value). Not in the presence table:
        // their reap would then tell each one's friends, 20,000 reads of MariaDB ahead of the new users' presence steps.
        var redis = kit.Redis.GetDatabase();
        uint sample = users[0].Id;
        await Wait.UntilAsync(async () => await redis.HashExistsAsync(RedisPresenceDirectory.Key(sample), "phone"), "the sample's presence written");
        RedisValue route = await redis.HashGetAsync(RouteRegistry.Key(sample), "phone");
        var batch = redis.CreateBatch();
        var writes = new List<Task>();
        for (uint u = 1; u <= OtherDevices; u++)
        {
            writes.Add(batch.HashSetAsync(RouteRegistry.Key(u), "phone", route));
        }
        for (uint u = 1; u <= OtherDevices; u += 5_000)
            writes.Add(batch.SetAddAsync(RedisPresenceDirectory.UsersKey(number), Enumerable.Range((int)u, 5_000).Select(i => (RedisValue)i).ToArray()));
        batch.Execute();
        await Task.WhenAll(writes);

        // The other node stops (gracefully) across the restart: only the new process itself reaps the dead one (at its start),
        // so the test does not depend on which node wins the reap. It comes back afterwards to push to the users.
        int numberL = kit.NodeIdOf(L);
        kit.Nodes[L].Signal(ServerProcess.SIGTERM);
        await kit.Nodes[L].WaitForExitAsync(TimeSpan.FromSeconds(60));

        kit.Nodes[N].Signal(SIGKILL);
        await kit.Nodes[N].WaitForExitAsync(TimeSpan.FromSeconds(30));
        await redis.KeyDeleteAsync(NodeLease.Key(number)); // its lease lapses (without waiting the TTL)
        await kit.RestartAsync(N, number);
        // The devices come back to the new process at once (the same client ids), while its reap of the dead one runs.
        var clients = await Task.WhenAll(users.Select(u => kit.LoginAsync(N, u.Name, u.Id, "phone")));
        // A frame after the login: until one comes, the connection's deadline is still the login timeout's (30 s from the
        // connect), which then closes it as idle, long before server.idle_timeout_s (seen here; Dispatcher.OnDeadline).
        foreach (var client in clients) await Ok(client.HeartbeatAsync());
        // Reaped: the set holds exactly the new process's users, and their presence steps (which follow its reap on its
        // presence worker) are written.
        try
        {
            await Wait.UntilAsync(async () => await redis.SetLengthAsync(RedisPresenceDirectory.UsersKey(number)) == users.Count &&
                    (await Task.WhenAll(users.Select(u => redis.SetContainsAsync(RedisPresenceDirectory.UsersKey(number), u.Id)))).All(b => b) &&
                    (await Task.WhenAll(users.Select(u => redis.HashExistsAsync(RedisPresenceDirectory.Key(u.Id), "phone")))).All(b => b),
                "the dead process's devices reaped", TimeSpan.FromSeconds(180));
        }
        catch (TimeoutException e)
        {
            var state = new List<string>();
            foreach (var (id, _) in users)
                state.Add($"user {id}: in set {await redis.SetContainsAsync(RedisPresenceDirectory.UsersKey(number), id)}, " +
                    $"presence {await redis.HashGetAsync(RedisPresenceDirectory.Key(id), "phone")}, route {await redis.HashGetAsync(RouteRegistry.Key(id), "phone")}");
            Assert.Fail($"{e.Message}: {await redis.SetLengthAsync(RedisPresenceDirectory.UsersKey(number))} user(s) in the set; {string.Join("; ", state)}; " +
                $"lease {await redis.StringGetAsync(NodeLease.Key(number))}; node log:\n" +
                string.Join('\n', kit.Nodes[N].Output.Split('\n').Where(l => !l.Contains("starting (configuration", StringComparison.Ordinal))));
        }
        await kit.RestartAsync(L, numberL);
        var watcher = await kit.LoginAsync(L, wName, w, "laptop");

        // The new process's devices are still in the registry.
        foreach (var (id, _) in users)
            Assert.True(number == ClusterKit.NodeOfEntry(await redis.HashGetAsync(RouteRegistry.Key(id), "phone")), $"user {id}'s device reaped from the registry");
        Assert.False(await redis.KeyExistsAsync(RouteRegistry.Key(1)), "the dead process's devices were not reaped");
        // So pushes from the other node reach them, and their friend sees them online.
        for (int i = 0; i < users.Count; i++)
        {
            long id = await SendOk(watcher, users[i].Id, "after the restart");
            var push = (await clients[i].WaitForPushAsync(PushNames.Message, TimeSpan.FromSeconds(30))).Data!.Value;
            Assert.Equal(id, push.GetProperty("message_id").GetInt64());
        }
        var list = await Ok(watcher.GetFriendListAsync());
        Assert.All(list.GetProperty("friends").EnumerateArray(), f => Assert.Equal("online", f.GetProperty("status").GetString()));
    }
}
