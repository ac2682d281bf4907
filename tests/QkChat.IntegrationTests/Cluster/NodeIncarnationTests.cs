using MySqlConnector;
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
    // first users have logged in (a busy node holds thousands; reaping runs 1,000 users per round trip).
    private const int OtherDevices = 100_000;

    // Two node starts and a restart (~10-20 s each on the loaded 2-core box), 100,000 devices written into Redis and reaped.
    [Fact(Timeout = 300_000)]
    public async Task Reaping_a_dead_process_keeps_the_devices_of_the_new_process_under_its_number()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        const int L = 0, N = 1;
        int number = kit.NodeIdOf(N);
        // The users of the restarted node get ids above every other device's, and the users set stays an intset (sorted):
        // the reap reaches them last, after the 100,000 others.
        await using (var db = await kit.Db.DataSource.OpenConnectionAsync())
        await using (var bump = new MySqlCommand("ALTER TABLE users AUTO_INCREMENT = 4000000000", db))
            await bump.ExecuteNonQueryAsync();
        (await ExternalProcess.RunAsync("redis-cli", ["-p", kit.RedisPort.ToString(), "CONFIG", "SET", "set-max-intset-entries", "1000000"]))
            .EnsureSuccess("redis-cli CONFIG SET");

        var (w, wName) = await kit.CreateUserAsync();
        var users = new List<(uint Id, string Name)>();
        for (int i = 0; i < 4; i++) users.Add(await kit.CreateUserAsync());
        foreach (var (id, _) in users) await kit.MakeFriendsAsync(w, id);
        foreach (var (id, name) in users) await kit.LoginAsync(N, name, id, "phone");

        // The dead process's other devices, written as it wrote its own (same values).
        var redis = kit.Redis.GetDatabase();
        uint sample = users[0].Id;
        await Wait.UntilAsync(async () => await redis.HashExistsAsync(RedisPresenceDirectory.Key(sample), "phone"), "the sample's presence written");
        RedisValue route = await redis.HashGetAsync(RouteRegistry.Key(sample), "phone");
        RedisValue presence = await redis.HashGetAsync(RedisPresenceDirectory.Key(sample), "phone");
        var batch = redis.CreateBatch();
        var writes = new List<Task>();
        for (uint u = 1; u <= OtherDevices; u++)
        {
            writes.Add(batch.HashSetAsync(RouteRegistry.Key(u), "phone", route));
            writes.Add(batch.HashSetAsync(RedisPresenceDirectory.Key(u), "phone", presence));
        }
        for (uint u = 1; u <= OtherDevices; u += 10_000)
            writes.Add(batch.SetAddAsync(RedisPresenceDirectory.UsersKey(number), Enumerable.Range((int)u, 10_000).Select(i => (RedisValue)i).ToArray()));
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
        // Reaped: the set holds exactly the new process's users (their presence steps follow its reap).
        try
        {
            await Wait.UntilAsync(async () => await redis.SetLengthAsync(RedisPresenceDirectory.UsersKey(number)) == users.Count &&
                    (await Task.WhenAll(users.Select(u => redis.SetContainsAsync(RedisPresenceDirectory.UsersKey(number), u.Id)))).All(b => b),
                "the dead process's devices reaped", TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}: {await redis.SetLengthAsync(RedisPresenceDirectory.UsersKey(number))} user(s) in the set; node log:\n" +
                string.Join('\n', kit.Nodes[N].Output.Split('\n').Where(l => l.Contains("presence", StringComparison.Ordinal) || l.Contains("fail", StringComparison.OrdinalIgnoreCase))));
        }
        await kit.RestartAsync(L, numberL);
        var watcher = await kit.LoginAsync(L, wName, w, "laptop");

        // The new process's devices are still in the registry and the presence table.
        foreach (var (id, _) in users)
        {
            Assert.Equal(number, ClusterKit.NodeOfEntry(await redis.HashGetAsync(RouteRegistry.Key(id), "phone")));
            Assert.True(await redis.HashExistsAsync(RedisPresenceDirectory.Key(id), "phone"), $"user {id}'s presence reaped");
        }
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
