using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Cluster;
using QkChat.Server.Storage;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// The node-id lease (issue 19 point 1) with real qkchatd processes on a 3-master Redis Cluster (its own Redis, so
/// no other test's servers hold numbers in it): a number held by a live node refuses a second one, "auto" hands out
/// different numbers, SIGTERM frees the number at once, SIGKILL leaves it held until the TTL lapses.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed partial class NodeLeaseTests(RedisClusterFixture cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [GeneratedRegex(@"node id (\d+) leased in Redis")]
    private static partial Regex Leased();

    private async Task<(TempDatabase Db, ConnectionMultiplexer Redis)> PrepareAsync()
    {
        Assert.SkipWhen(cluster.Missing is not null, cluster.Missing ?? "");
        var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        var config = new ConfigurationOptions();
        Backends.AddEndPoints(config, new RedisOptions { Host = cluster.Endpoints });
        var redis = await ConnectionMultiplexer.ConnectAsync(config);
        // Numbers left by an earlier test of this collection (killed servers) would change what "auto" picks.
        foreach (int id in Enumerable.Range(0, 16)) await redis.GetDatabase().KeyDeleteAsync(NodeLease.Key(id));
        return (db, redis);
    }

    private Dictionary<string, string> Env(TempDatabase db, string? nodeId = null, int? ttl = null)
    {
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_REDIS_HOST"] = cluster.Endpoints;
        if (nodeId is not null) env["QKCHAT_NODE_ID"] = nodeId;
        if (ttl is not null) env["QKCHAT_NODE_LEASE_TTL_S"] = ttl.ToString()!;
        return env;
    }

    private static async Task<ExternalProcess> StartReadyAsync(Dictionary<string, string> env)
    {
        var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience);
        return p;
    }

    private static int LeasedId(ExternalProcess p) => int.Parse(Leased().Match(p.Output).Groups[1].Value);

    [Fact(Timeout = 180_000)] // three server processes on a loaded 2-core box
    public async Task A_second_node_with_a_taken_id_refuses_to_start_naming_the_id_and_the_fix()
    {
        var (db, redis) = await PrepareAsync();
        await using var _ = db;
        await using var __ = redis;
        await using var first = await StartReadyAsync(Env(db, "7"));
        Assert.Equal(7, LeasedId(first));

        await using var second = ServerProcess.Start(Env(db, "7"));
        Assert.Equal(1, await second.WaitForExitAsync(Patience));
        Assert.Contains("server.node_id=7 is held by another live node", second.Output);
        Assert.Contains($"pid {first.ProcessId}", second.Output); // names the holder
        Assert.Contains("QKCHAT_NODE_ID", second.Output);
        Assert.DoesNotContain("ready: serving chat", second.Output);
        // The refusal took nothing from the holder: its lease still carries its token.
        Assert.Contains($"pid {first.ProcessId}", (string?)await redis.GetDatabase().StringGetAsync(NodeLease.Key(7)));
    }

    [Fact(Timeout = 180_000)]
    public async Task Nodes_without_an_id_take_different_free_ids_and_SIGTERM_frees_the_id_at_once()
    {
        var (db, redis) = await PrepareAsync();
        await using var _ = db;
        await using var __ = redis;
        await using var a = await StartReadyAsync(Env(db));
        await using var b = await StartReadyAsync(Env(db));
        int idA = LeasedId(a), idB = LeasedId(b);
        Assert.NotEqual(idA, idB);
        Assert.Equal([0, 1], new[] { idA, idB }.Order()); // the first free ones

        a.Signal(ServerProcess.SIGTERM);
        Assert.Equal(0, await a.WaitForExitAsync(Patience));
        Assert.Contains($"node id {idA} released", a.Output);
        Assert.False(await redis.GetDatabase().KeyExistsAsync(NodeLease.Key(idA)));
        // The default 15 s TTL has not run out: only the release lets a third node take the number now.
        await using var c = await StartReadyAsync(Env(db, idA.ToString()));
        Assert.Equal(idA, LeasedId(c));
    }

    [Fact(Timeout = 180_000)]
    public async Task After_SIGKILL_the_id_stays_held_until_the_lease_lapses()
    {
        var (db, redis) = await PrepareAsync();
        await using var _ = db;
        await using var __ = redis;
        // A 5 s lease (QKCHAT_NODE_LEASE_TTL_S, for tests): renewed every ~1.7 s, so at any moment >3 s of it remain.
        await using var a = await StartReadyAsync(Env(db, "11", ttl: 5));
        a.Signal(9);
        await a.WaitForExitAsync(Patience);
        string? holder = await redis.GetDatabase().StringGetAsync(NodeLease.Key(11));
        Assert.Contains($"pid {a.ProcessId}", holder); // not released: a killed node says no goodbye

        await Wait.UntilAsync(async () => !await redis.GetDatabase().KeyExistsAsync(NodeLease.Key(11)), "the killed node's lease lapsed", Patience);
        await using var b = await StartReadyAsync(Env(db, "11", ttl: 5));
        Assert.Equal(11, LeasedId(b));
    }
}
