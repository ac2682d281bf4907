using QkChat.Core.Presence;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Cluster;
using QkChat.Server.Presence;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// A reap of a dead node that fails half-way (a Redis error) is retried and the retry is idempotent: every user the dead
/// node held is reported offline exactly once over the failed attempt and the retries, whether the same node retries or
/// another one does later (docs/cluster.md, "Node death"). Against a real Redis, on the values as the nodes write them.
/// </summary>
public sealed class ReapRetryTests
{
    private const int Dead = 5, Users = 2500, Broken = 1500;
    private const string Incarnation = "deadbeef";

    [Fact(Timeout = 120_000)]
    public async Task A_reap_that_fails_half_way_reports_every_change_once_over_its_retries()
    {
        int port = ServerProcess.FreePort();
        await using var server = ExternalProcess.Start("redis-server",
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--set-max-intset-entries", "100000"],
            workingDirectory: Path.GetTempPath());
        await server.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
        var db = redis.GetDatabase();
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(db);
        // A key of the wrong type half-way (users are reaped in id order: an intset): that user's script fails, and with
        // it the reap, after the first chunk of 1,000 users went through and while the second chunk's other scripts ran.
        await db.KeyDeleteAsync(RedisPresenceDirectory.Key(Broken));
        await db.StringSetAsync(RedisPresenceDirectory.Key(Broken), "not a hash");

        var reaper = new RedisPresenceDirectory(redis, 6, "00000006");
        var told = new List<uint>();
        Task Tell(IReadOnlyList<ClusterChange> changes)
        {
            Assert.All(changes, c => Assert.Equal(PresenceStatus.Offline, c.After));
            told.AddRange(changes.Select(c => c.UserId));
            return Task.CompletedTask;
        }
        await Assert.ThrowsAnyAsync<Exception>(() => reaper.ReapNodeAsync(Dead, Tell, ct));
        Assert.True(await db.KeyExistsAsync(NodeLease.ReapingKey(Dead)), "the failed reap's flag (every node retries while it stands)");

        // Redis is healthy again; the next attempt reports what the failed one did not, and the flag goes.
        await RepairAsync(db);
        await reaper.ReapNodeAsync(Dead, Tell, ct);
        Assert.Equal(Enumerable.Range(1, Users).Select(u => (uint)u), told.Order());
        Assert.False(await db.KeyExistsAsync(NodeLease.ReapingKey(Dead)));

        // Another node's reap now finds nothing left: no change twice, no entry, no member, no marker.
        Assert.Empty(await new RedisPresenceDirectory(redis, 7, "00000007").ReapNodeAsync(Dead, ct));
        await AssertAllGoneAsync(db);
    }

    [Fact(Timeout = 120_000)]
    public async Task Another_node_tells_a_failed_reapers_changes_once_its_markers_are_stale_and_not_before()
    {
        int port = ServerProcess.FreePort();
        await using var server = ExternalProcess.Start("redis-server",
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--set-max-intset-entries", "100000"],
            workingDirectory: Path.GetTempPath());
        await server.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
        var db = redis.GetDatabase();
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(db);
        await db.KeyDeleteAsync(RedisPresenceDirectory.Key(Broken));
        await db.StringSetAsync(RedisPresenceDirectory.Key(Broken), "not a hash");

        // Node 6 fails half-way and never comes back (it died between its scripts and its tell).
        var clock = new MovableClock();
        var told = new List<uint>();
        Task Tell(IReadOnlyList<ClusterChange> changes)
        {
            told.AddRange(changes.Select(c => c.UserId));
            return Task.CompletedTask;
        }
        await Assert.ThrowsAnyAsync<Exception>(() => new RedisPresenceDirectory(redis, 6, "00000006", clock).ReapNodeAsync(Dead, Tell, ct));
        await RepairAsync(db);

        // Node 7 at once: node 6 may still be telling its markers' changes, so node 7 tells only the rest, and the flag stays.
        var other = new RedisPresenceDirectory(redis, 7, "00000007", clock);
        await other.ReapNodeAsync(Dead, Tell, ct);
        var marked = Enumerable.Range(1, Users).Select(u => (uint)u).Except(told).ToList();
        Assert.NotEmpty(marked);
        Assert.True(await db.KeyExistsAsync(NodeLease.ReapingKey(Dead)));

        // Past the markers' age node 7 takes them over: every change told once in all.
        clock.Now += TimeSpan.FromMilliseconds(RedisPresenceDirectory.StaleMarkerMs);
        await other.ReapNodeAsync(Dead, Tell, ct);
        Assert.Equal(Enumerable.Range(1, Users).Select(u => (uint)u), told.Order());
        Assert.False(await db.KeyExistsAsync(NodeLease.ReapingKey(Dead)));
        await AssertAllGoneAsync(db);
    }

    private static async Task RepairAsync(IDatabase db)
    {
        await db.KeyDeleteAsync(RedisPresenceDirectory.Key(Broken));
        await db.HashSetAsync(RedisPresenceDirectory.Key(Broken), "phone", $"{Dead}:{Incarnation}:4");
    }

    private static async Task AssertAllGoneAsync(IDatabase db)
    {
        Assert.Equal(0, await db.SetLengthAsync(RedisPresenceDirectory.UsersKey(Dead)));
        foreach (uint u in new uint[] { 1, 1200, Broken, Users })
        {
            Assert.False(await db.KeyExistsAsync(RedisPresenceDirectory.Key(u)));
            Assert.False(await db.KeyExistsAsync(RouteRegistry.Key(u)));
            Assert.False(await db.KeyExistsAsync(RedisPresenceDirectory.MarkerKey(u)));
        }
    }

    private sealed class MovableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Users 1..<see cref="Users"/>, each with one device of the dead incarnation online, in both tables.</summary>
    private static async Task SeedAsync(IDatabase db)
    {
        var batch = db.CreateBatch();
        var writes = new List<Task>();
        for (uint u = 1; u <= Users; u++)
        {
            writes.Add(batch.HashSetAsync(RedisPresenceDirectory.Key(u), "phone", $"{Dead}:{Incarnation}:4"));
            writes.Add(batch.HashSetAsync(RouteRegistry.Key(u), "phone", RouteRegistry.Value(Dead, Incarnation + ":1f")));
        }
        writes.Add(batch.SetAddAsync(RedisPresenceDirectory.UsersKey(Dead), Enumerable.Range(1, Users).Select(i => (RedisValue)i).ToArray()));
        batch.Execute();
        await Task.WhenAll(writes);
    }
}
