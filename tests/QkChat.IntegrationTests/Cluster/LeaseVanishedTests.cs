using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Cluster;
using QkChat.Server.Presence;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// A renewal that finds its lease key gone (Redis lost its data without a reconnect, or the key lapsed during a stall)
/// takes the number again under the same token and re-registers the node's devices at once, in the registry and in the
/// presence table, rather than waiting for the 30 s safety net; a key another process took meanwhile makes the node stop
/// (docs/cluster.md, "Node ids and the lease").
/// </summary>
public sealed class LeaseVanishedTests
{
    // A 3 s lease is renewed every second: the retake follows a FLUSHALL within about a second.
    private static readonly Dictionary<string, string> ShortLease = new() { ["QKCHAT_NODE_LEASE_TTL_S"] = "3" };

    [Fact(Timeout = 180_000)] // two server processes on a loaded 2-core box
    public async Task After_FLUSHALL_the_renewal_takes_the_lease_again_and_re_registers_the_devices_at_once()
    {
        await using var kit = await ClusterKit.StartAsync(2, env: ShortLease);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var receiver = await kit.LoginAsync(1, xName, x, "phone");
        var sender = await kit.LoginAsync(0, sName, s, "laptop");
        await Push(receiver, PushNames.Presence);

        // No connection is lost (no reconnect event): only the renewal can notice.
        (await ExternalProcess.RunAsync("redis-cli", ["-p", kit.RedisPort.ToString(), "FLUSHALL"])).EnsureSuccess("redis-cli FLUSHALL");

        // The re-registration event: each node writes its devices again because its lease key had vanished (the 30 s
        // safety net names another reason).
        foreach (var node in kit.Nodes)
            await node.WaitForOutputAsync("written into the registry again (the lease key had vanished)", TimeSpan.FromSeconds(60));
        Assert.Equal(kit.NodeIdOf(1), await kit.RegisteredNodeAsync(x, "phone"));
        Assert.Equal(kit.NodeIdOf(0), await kit.RegisteredNodeAsync(s, "laptop"));
        var db = kit.Redis.GetDatabase();
        await Wait.UntilAsync(async () => await db.HashExistsAsync(RedisPresenceDirectory.Key(x), "phone")
            && await db.HashExistsAsync(RedisPresenceDirectory.Key(s), "laptop"), "both devices in the presence table again");
        Assert.True(await kit.MetricAsync(1, "qkchat_node_lease_retaken_total") >= 1);

        // A push crosses again without anyone logging in. Sends may answer UNAVAILABLE until node 0's permit reopened.
        long id = 0;
        await Wait.UntilAsync(async () =>
        {
            var answer = await Send(sender, x, "after the flush");
            if (answer.Code == ErrorCodes.Ok) id = answer.Data!.Value.GetProperty("message_id").GetInt64();
            return answer.Code == ErrorCodes.Ok;
        }, "a send accepted after the flush");
        Assert.Equal(id, (await Push(receiver, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
    }

    [Fact(Timeout = 180_000)]
    public async Task A_lease_key_another_process_took_meanwhile_makes_the_node_stop()
    {
        await using var kit = await ClusterKit.StartAsync(1, env: ShortLease);
        var db = kit.Redis.GetDatabase();
        var key = NodeLease.Key(kit.NodeIdOf(0));
        // The key lapsed and another process took the number before this node's renewal.
        await db.StringSetAsync(key, "elsewhere:8080 pid 1 abcdef12", TimeSpan.FromMinutes(1));
        await kit.Nodes[0].WaitForOutputAsync("is now held by another node (elsewhere:8080 pid 1 abcdef12)", TimeSpan.FromSeconds(60));
        Assert.Equal(1, await kit.Nodes[0].WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("elsewhere:8080 pid 1 abcdef12", (string?)await db.StringGetAsync(key));
    }
}
