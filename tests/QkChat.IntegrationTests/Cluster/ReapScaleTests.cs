using System.Diagnostics;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Cluster;
using QkChat.Server.Presence;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// The reap of a dead node with many devices, end to end on one real node: 20,000 users of a dead number in the presence
/// table and the device registry, reaped by the live node (Redis scripts, last_seen in MariaDB, the friend lookups). A
/// measurement, not a bound: the test checks that everything is reaped and each user's offline is logged as changed, and
/// writes the time it took to its output (docs/cluster.md, "Node death", quotes the figures and the box they came from).
/// </summary>
public sealed class ReapScaleTests
{
    private const int Dead = 9, Users = 20_000;

    // A node start, 20,000 users written and reaped: the reap took minutes per 100,000 users before it was batched.
    [Fact(Timeout = 600_000)]
    public async Task A_dead_node_of_20000_devices_is_reaped_completely()
    {
        await using var kit = await ClusterKit.StartAsync(1);
        var db = kit.Redis.GetDatabase();
        var batch = db.CreateBatch();
        var writes = new List<Task>();
        // Ids far above the kit's own users; none of them exists in MariaDB (their last_seen update finds no row, their
        // friend set is empty): the cost measured is the reap's, not pushes to friends.
        const uint first = 3_000_000_000;
        for (uint u = first; u < first + Users; u++)
        {
            writes.Add(batch.HashSetAsync(RedisPresenceDirectory.Key(u), "phone", $"{Dead}:deadbeef:4"));
            writes.Add(batch.HashSetAsync(RouteRegistry.Key(u), "phone", RouteRegistry.Value(Dead, "deadbeef:1f")));
        }
        for (uint u = first; u < first + Users; u += 5_000)
            writes.Add(batch.SetAddAsync(RedisPresenceDirectory.UsersKey(Dead), Enumerable.Range(0, 5_000).Select(i => (RedisValue)(u + (uint)i)).ToArray()));
        batch.Execute();
        await Task.WhenAll(writes);

        // The node reaps number 9 at its next 30 s sweep (or, where the reap keeps a flag, at its next liveness tick when
        // the flag stands): the clock starts when the first users leave the set.
        await Wait.UntilAsync(async () => await db.SetLengthAsync(RedisPresenceDirectory.UsersKey(Dead)) < Users, "the reap started",
            TimeSpan.FromSeconds(90));
        var clock = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => await db.SetLengthAsync(RedisPresenceDirectory.UsersKey(Dead)) == 0, "every user left the set",
            TimeSpan.FromSeconds(480));
        var redisDone = clock.Elapsed;
        await kit.Nodes[0].WaitForOutputAsync($"node {Dead} holds no lease: its devices reaped here, {Users} user(s) changed", TimeSpan.FromSeconds(480));
        var done = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"reap of {Users} devices: users set empty after {redisDone.TotalSeconds:F1} s, reap logged done after {done.TotalSeconds:F1} s");
        Console.Error.WriteLine($"REAPSCALE {Users} set-empty {redisDone.TotalSeconds:F1}s done {done.TotalSeconds:F1}s");

        Assert.False(await db.KeyExistsAsync(RedisPresenceDirectory.Key(first)));
        Assert.False(await db.KeyExistsAsync(RouteRegistry.Key(first + Users - 1)));
    }
}
