using QkChat.Core.Presence;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Cluster;
using QkChat.Server.Presence;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// The reap's incarnation rule on the values as written (docs/cluster.md, "Registry" and "Node death"), against a real
/// Redis and without timing: registry values are "N:incarnation:connection" (node:session, the session's first half the
/// lease incarnation, as ClusterDelivery.SessionOf makes it), presence values "N:incarnation:status". NodeIncarnationTests
/// shows the same end to end, but only when its logins land inside the reap; this one checks the scripts every time.
/// </summary>
public sealed class IncarnationReapTests
{
    private const int Number = 5;
    private const string Holder = "0123abcd", Dead = "deadbeef";

    [Fact(Timeout = 60_000)]
    public async Task A_reap_deletes_the_dead_incarnations_entries_and_keeps_the_holders()
    {
        // Its own redis-server: the lease key of a number is deployment-wide state (ClusterKit says why).
        int port = ServerProcess.FreePort();
        await using var server = ExternalProcess.Start("redis-server",
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], workingDirectory: Path.GetTempPath());
        await server.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
        var db = redis.GetDatabase();
        var ct = TestContext.Current.CancellationToken;
        const uint user = 424242;

        // The number is held again, by incarnation Holder; Dead held it before and died with entries.
        await db.StringSetAsync(NodeLease.Key(Number), "host pid 1 " + Holder);
        var holder = new RedisPresenceDirectory(redis, Number, Holder);
        var dead = new RedisPresenceDirectory(redis, Number, Dead);
        await dead.SetDeviceAsync(user, "old", PresenceStatus.Busy, ct);
        await holder.SetDeviceAsync(user, "new", PresenceStatus.Online, ct);
        await db.HashSetAsync(RouteRegistry.Key(user), [
            new HashEntry("new", RouteRegistry.Value(Number, Holder + ":1f")),
            new HashEntry("old", RouteRegistry.Value(Number, Dead + ":1f")),
            new HashEntry("bare", Number.ToString()), // an earlier version's entry: no incarnation
            new HashEntry("elsewhere", RouteRegistry.Value(Number + 1, Dead + ":2")),
        ]);

        // Any node reaps the number (here a view of node 6): only the holder's entries of number 5 stay.
        var other = new RedisPresenceDirectory(redis, Number + 1, "00000006");
        Assert.Empty(await other.ReapNodeAsync(Number, ct)); // the user stays online (the new device)
        Assert.Equal(["elsewhere", "new"], (await db.HashKeysAsync(RouteRegistry.Key(user))).Select(k => (string)k!).Order());
        Assert.Equal(["new"], (await db.HashKeysAsync(RedisPresenceDirectory.Key(user))).Select(k => (string)k!));
        Assert.True(await db.SetContainsAsync(RedisPresenceDirectory.UsersKey(Number), user), "the holder's user left the node's set");

        // The holder dies too (its lease lapses): now its entries go, and the user leaves the set.
        await db.KeyDeleteAsync(NodeLease.Key(Number));
        Assert.Equal([new ClusterChange(user, PresenceStatus.Online, PresenceStatus.Offline)], await other.ReapNodeAsync(Number, ct));
        Assert.Equal(["elsewhere"], (await db.HashKeysAsync(RouteRegistry.Key(user))).Select(k => (string)k!));
        Assert.False(await db.KeyExistsAsync(RedisPresenceDirectory.Key(user)));
        Assert.False(await db.SetContainsAsync(RedisPresenceDirectory.UsersKey(Number), user));
    }
}
