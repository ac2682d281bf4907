using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Cluster;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// Cross-node delivery on a 3-master Redis Cluster (issue 19 point 2): the nodes detect the Cluster and route through
/// sharded channels (SSUBSCRIBE/SPUBLISH on qk:frames:{N}, each on the master owning its slot); a message sent on one
/// node reaches the device on the other exactly once. The other cross-node tests run on a single Redis (plain channels).
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterChannelTests(RedisClusterFixture cluster)
{
    [Fact(Timeout = 180_000)] // a cluster, then two server processes, on a loaded 2-core box
    public async Task A_message_crosses_between_two_nodes_once_through_sharded_channels()
    {
        Assert.SkipWhen(cluster.Missing is not null, cluster.Missing ?? "");
        // Numbers left by an earlier test of this collection (killed servers) must not block "auto".
        await using (var seed = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(cluster.Endpoints))
            foreach (int number in Enumerable.Range(0, 16)) await seed.GetDatabase().KeyDeleteAsync(NodeLease.Key(number));

        await using var kit = await ClusterKit.StartAsync(2, redisEndpoints: cluster.Endpoints);
        foreach (var node in kit.Nodes) Assert.Contains("channels sharded (SSUBSCRIBE/SPUBLISH)", node.Output);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var receiver = await kit.LoginAsync(1, xName, x, "phone");
        var sender = await kit.LoginAsync(0, sName, s, "laptop");

        long id = await SendOk(sender, x, "across the cluster");
        Assert.Equal(id, (await Push(receiver, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
        // Once: a second message's push comes next, not a copy of the first.
        long next = await SendOk(sender, x, "and once more");
        Assert.Equal(next, (await Push(receiver, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
        await NoPush(receiver, PushNames.Message);
    }
}
