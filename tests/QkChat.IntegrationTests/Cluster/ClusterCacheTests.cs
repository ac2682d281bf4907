using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19: friend, block and group-membership caches are dropped on every node when one node changes them
/// (docs/cluster.md, "Caches"): the request after the change's answer is judged by the new truth on any node.
/// </summary>
public sealed class ClusterCacheTests
{
    private const int ClusterTimeout = 180_000;

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_block_or_unfriend_on_one_node_takes_effect_for_sends_on_another_once_its_notice_is_handled()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, xName) = await kit.CreateUserAsync();
        var (y, yName) = await kit.CreateUserAsync();
        var (z, zName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(y, x);
        await kit.MakeFriendsAsync(y, z);
        var xClient = await kit.LoginAsync(0, xName, x, "phone");
        var zClient = await kit.LoginAsync(0, zName, z, "phone");
        var yClient = await kit.LoginAsync(1, yName, y, "phone");
        // Node 1 caches y's friends and blocks with these sends.
        await SendOk(yClient, x, "before the block");
        await SendOk(yClient, z, "before the unfriend");

        // The change's answer follows the notice's PUBLISH, so the notice is in node 1's socket; a send there can still
        // overtake its handling (docs/cluster.md "Caches", Timing: once in a run of the suite on the loaded box). The
        // caches have no expiry: a notice that never took effect would keep the old answer past the deadline.
        await Ok(xClient.BlockUserAsync(y));
        await Wait.UntilAsync(async () => await Code(Send(yClient, x, "after the block")) == ErrorCodes.Forbidden,
            "node 1 refuses y's sends to x after x blocked y on node 0", TimeSpan.FromSeconds(15));

        await Ok(zClient.DeleteFriendAsync(y));
        await Wait.UntilAsync(async () => await Code(Send(yClient, z, "after the unfriend")) == ErrorCodes.NotFriends,
            "node 1 refuses y's sends to z after z unfriended y on node 0", TimeSpan.FromSeconds(15));
    }

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_member_removed_on_one_node_gets_no_entry_sent_through_another()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        var (o, oName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        var (m, mName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(o, s, m);
        var owner = await kit.LoginAsync(0, oName, o, "phone");
        var sender = await kit.LoginAsync(1, sName, s, "phone");
        var member = await kit.LoginAsync(2, mName, m, "phone");
        long group = (await Ok(owner.CreateGroupAsync("removal across nodes", [s, m]))).GetProperty("group_id").GetInt64();

        // Node 1 caches the membership with this entry; m gets it.
        long first = (await Ok(sender.SendGroupMessageAsync(group, "before"))).GetProperty("seq").GetInt64();
        Assert.Equal(first, (await Push(member, PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());

        await Ok(owner.RemoveGroupMemberAsync(group, m));
        await Ok(sender.SendGroupMessageAsync(group, "after"));
        // Marker through the same route (node 1 to node 2, after that entry's fan-out): a direct message from s to m.
        long marker = await SendOk(sender, m, "marker");
        var next = await member.WaitForAsync(e => e.Push && e.Action is PushNames.GroupMessage or PushNames.Message, Patience,
            "the marker or a group entry");
        Assert.Equal(PushNames.Message, next.Action);
        Assert.Equal(marker, next.Data!.Value.GetProperty("message_id").GetInt64());
    }
}
