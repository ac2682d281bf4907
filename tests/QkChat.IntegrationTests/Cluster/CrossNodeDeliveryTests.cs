using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19 / protocol.md §12: every rule holds across nodes. Three real qkchatd processes share one database and one
/// Redis; devices sit on different nodes, and what one node does reaches the devices on the others through Redis.
/// </summary>
public sealed class CrossNodeDeliveryTests
{
    // Three processes start one after the other on a loaded 2-core box (each ~5-10 s), then the test itself.
    private const int ClusterTimeout = 180_000;

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_user_with_devices_on_two_nodes_gets_every_push_on_both_once()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var phone = await kit.LoginAsync(0, xName, x, "phone");
        var tablet = await kit.LoginAsync(1, xName, x, "tablet");
        var sender = await kit.LoginAsync(2, sName, s, "laptop");

        var sent = new List<long>();
        for (int i = 0; i < 10; i++) sent.Add(await SendOk(sender, x, $"cross-node {i}"));

        foreach (var device in new[] { phone, tablet })
        {
            var got = new List<long>();
            while (got.Count < sent.Count) got.Add((await Push(device, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
            Assert.Equal(sent, got); // each once, in order
        }
        // Nothing more: a duplicate of the last push would be queued before a later message's push; send one more and see
        // it comes next on both devices.
        long last = await SendOk(sender, x, "marker");
        foreach (var device in new[] { phone, tablet })
            Assert.Equal(last, (await Push(device, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
        await NoPush(phone, PushNames.Message);
        await NoPush(tablet, PushNames.Message);
    }

    [Fact(Timeout = ClusterTimeout)]
    public async Task The_same_client_id_on_another_node_kicks_the_first_and_pushes_follow_the_device()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var first = await kit.LoginAsync(0, xName, x, "phone");
        var second = await kit.LoginAsync(1, xName, x, "phone");

        var kicked = await first.WaitForPushAsync(PushNames.Kicked, Patience);
        Assert.Equal("same_device", kicked.Data!.Value.GetProperty("reason").GetString());
        await first.Closed.WaitAsync(Patience);

        // The registry now names node 1: a message from node 2 reaches the new session, and the old one never returns.
        var sender = await kit.LoginAsync(2, sName, s, "laptop");
        long id = await SendOk(sender, x, "after the move");
        Assert.Equal(id, (await Push(second, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
        await kit.WaitRegisteredAsync(x, "phone", kit.NodeIdOf(1)); // the old node's detach did not remove the new entry
    }

    [Fact(Timeout = ClusterTimeout)]
    public async Task Change_password_on_one_node_cuts_the_other_device_on_another_node()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, xName) = await kit.CreateUserAsync();
        var phone = await kit.LoginAsync(0, xName, x, "phone");
        var tablet = await kit.LoginAsync(1, xName, x, "tablet");

        await Ok(phone.ChangePasswordAsync(ClusterKit.Password, "another long secret"));

        var kicked = await tablet.WaitForPushAsync(PushNames.Kicked, Patience);
        Assert.Equal("revoked", kicked.Data!.Value.GetProperty("reason").GetString());
        await tablet.Closed.WaitAsync(Patience);
        await Ok(phone.HeartbeatAsync()); // the device that changed it stays
    }

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_group_over_three_nodes_gets_every_entry_once_in_seq_order()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        var users = new List<(uint Id, string Name)>();
        for (int i = 0; i < 6; i++) users.Add(await kit.CreateUserAsync());
        await kit.MakeFriendsAsync([.. users.Select(u => u.Id)]);
        // Owner on node 0; members two per node (one beside the owner): local and remote fan-out at once.
        var owner = await kit.LoginAsync(0, users[0].Name, users[0].Id, "phone");
        var members = new List<ChatClient>();
        for (int i = 1; i < users.Count; i++) members.Add(await kit.LoginAsync(i % 3, users[i].Name, users[i].Id, "phone"));

        var created = await Ok(owner.CreateGroupAsync("across nodes", [.. users.Skip(1).Select(u => (long)u.Id)]));
        long group = created.GetProperty("group_id").GetInt64();
        var seqs = new List<long>();
        for (int i = 0; i < 15; i++) seqs.Add((await Ok(owner.SendGroupMessageAsync(group, $"entry {i}"))).GetProperty("seq").GetInt64());

        foreach (var member in members)
        {
            var got = new List<long>();
            while (got.Count < seqs.Count)
            {
                var push = (await Push(member, PushNames.GroupMessage)).Data!.Value;
                if (push.GetProperty("group_id").GetInt64() == group) got.Add(push.GetProperty("seq").GetInt64());
            }
            Assert.Equal(seqs, got);
        }
        long marker = (await Ok(owner.SendGroupMessageAsync(group, "marker"))).GetProperty("seq").GetInt64();
        foreach (var member in members)
            Assert.Equal(marker, (await Push(member, PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());
        await NoPush(owner, PushNames.GroupMessage);
    }
}
