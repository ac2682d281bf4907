using MySqlConnector;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19's remaining cross-node rule gaps (docs/cluster.md, "Kicks across nodes", "Staleness"): the audit row of a
/// same_device kick from another node, two logins of one device on two nodes at once, and a send right after a login
/// answer on another node.
/// </summary>
public sealed class CrossNodeRuleTests
{
    // Two processes start one after the other on a loaded 2-core box (each ~5-10 s), then many login rounds.
    private const int ClusterTimeout = 300_000;

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_same_device_kick_from_another_node_writes_the_row_a_kick_on_one_node_writes()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, name) = await kit.CreateUserAsync();

        // On one node: the tablet's second login pushes the first out.
        var tabletA = await ConnectAsync(kit, 0);
        await Ok(tabletA.LoginAsync(name, ClusterKit.Password, "tablet", "Tab A"));
        var tabletB = await ConnectAsync(kit, 0);
        await Ok(tabletB.LoginAsync(name, ClusterKit.Password, "tablet", "Tab B"));
        await tabletA.WaitForPushAsync(PushNames.Kicked, Patience);

        // Across nodes: the phone on node 0, then the same client_id on node 1.
        var phoneA = await ConnectAsync(kit, 0);
        await Ok(phoneA.LoginAsync(name, ClusterKit.Password, "phone", "Phone A"));
        await kit.WaitRegisteredAsync(x, "phone", kit.NodeIdOf(0));
        var phoneB = await ConnectAsync(kit, 1);
        await Ok(phoneB.LoginAsync(name, ClusterKit.Password, "phone", "Phone B"));
        Assert.Equal("same_device", (await phoneA.WaitForPushAsync(PushNames.Kicked, Patience)).Data!.Value.GetProperty("reason").GetString());

        // A marker row from each node after the kicks: each node's audit writer stores in record order, so once both
        // markers are stored every kicked row either node recorded before them is too.
        foreach (int node in new[] { 0, 1 })
        {
            var marker = await ConnectAsync(kit, node);
            Assert.Equal(ErrorCodes.InvalidCredentials, (await marker.LoginAsync(name, "not the password at all", "marker" + node)).Code);
        }
        var rows = await Wait.ForAsync(() => KickedAndMarkerRowsAsync(kit, x), r => r.Count(e => e.Event == "login_failed") == 2,
            "both marker rows stored");

        var kicked = rows.Where(r => r.Event == "kicked").ToList();
        Assert.Equal(2, kicked.Count); // one per kick: neither missing nor written twice
        var oneNode = Assert.Single(kicked, r => r.ClientId == "tablet");
        var twoNodes = Assert.Single(kicked, r => r.ClientId == "phone");
        Assert.Equal((true, "same_device", "Tab B", tabletA.LocalEndPoint!.Address.ToString()),
            (oneNode.Ok, oneNode.Detail, oneNode.Device, oneNode.Ip));
        // The same row across nodes: the new login's device, the address of the connection pushed out.
        Assert.Equal((true, "same_device", "Phone B", phoneA.LocalEndPoint!.Address.ToString()),
            (twoNodes.Ok, twoNodes.Detail, twoNodes.Device, twoNodes.Ip));
    }

    [Fact(Timeout = ClusterTimeout)]
    public async Task Two_logins_of_one_device_on_two_nodes_at_once_leave_exactly_the_later_one()
    {
        const int rounds = 30;
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);

        var survivors = new List<(int Round, ChatClient Client)>();
        for (int round = 0; round < rounds; round++)
        {
            // The run takes longer than server.idle_timeout_s (60 s): the survivors so far say they are there.
            await Task.WhenAll(survivors.Select(v => Ok(v.Client.HeartbeatAsync())));
            string device = "d" + round;
            // An earlier session of the device on node 1 (its registry entry is what a racing login on node 0 reads),
            // then two new logins of it, one per node, sent at the same moment.
            var old = await kit.LoginAsync(1, xName, x, device);
            var onA = await ConnectAsync(kit, 0);
            var onB = await ConnectAsync(kit, 1);
            var logins = new[] { onA.LoginAsync(xName, ClusterKit.Password, device), onB.LoginAsync(xName, ClusterKit.Password, device) };
            foreach (var login in logins) await Ok(login);

            await old.Closed.WaitAsync(Patience);
            // Never both: one of the two is kicked.
            await Task.WhenAny(onA.Closed, onB.Closed).WaitAsync(TimeSpan.FromSeconds(30));
            var (survivor, loser, survivorNode) = onA.IsConnected ? (onA, onB, 0) : (onB, onA, 1);
            Assert.False(loser.IsConnected);
            Assert.Equal("same_device", (await loser.WaitForPushAsync(PushNames.Kicked, Patience)).Data!.Value.GetProperty("reason").GetString());
            // The later one: the registry names the survivor's node when all is written.
            await kit.WaitRegisteredAsync(x, device, kit.NodeIdOf(survivorNode));
            survivors.Add((round, survivor));
        }

        // Never neither: every round's survivor is still online. A kick still on its way from a node comes before that
        // node's later pushes (one channel, publish order), so a message from each node reaching every survivor proves
        // no kick is left.
        var senders = new[] { await kit.LoginAsync(0, sName, s, "s0"), await kit.LoginAsync(1, sName, s, "s1") };
        foreach (var sender in senders)
        {
            long id = await SendOk(sender, x, "marker");
            foreach (var (round, client) in survivors)
            {
                var push = await client.WaitForAsync(e => e.Push && (e.Action == PushNames.Kicked
                    || (e.Action == PushNames.Message && e.Data!.Value.GetProperty("message_id").GetInt64() == id)), Patience,
                    $"round {round}: the marker or a kick");
                Assert.True(push.Action == PushNames.Message, $"round {round}: the survivor was kicked too ({push.Data})");
            }
        }
    }

    [Fact(Timeout = ClusterTimeout)]
    public async Task A_send_right_after_a_login_answer_on_another_node_is_pushed()
    {
        const int rounds = 20;
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var sender = await kit.LoginAsync(0, sName, s, "laptop");
        for (int round = 0; round < rounds; round++)
        {
            // Node 0 knows the receiver's earlier devices (it pushed to them last round): its route cache holds them.
            var receiver = await ConnectAsync(kit, 1);
            await Ok(receiver.LoginAsync(xName, ClusterKit.Password, "d" + round));
            // Redis busy for a moment right after the answer (a loaded box): whatever the login left to do in Redis
            // waits behind it, while the send below needs only MariaDB and node 0's own view.
            var busy = kit.Redis.GetDatabase().ScriptEvaluateAsync(BusyScript);
            long id = await SendOk(sender, x, "right after the login " + round);
            // Live, or in the new device's first offline batch: when node 0 mints the id in the same millisecond as node 1
            // took the login's offline mark, the id sorts below the mark (node 0 < node 1 in the id's node bits), and a
            // batch fetched after the message committed carries it, while the device's filter drops the live push.
            await receiver.WaitForAsync(e => e.Push && (e.Action == PushNames.Message && e.Data!.Value.GetProperty("message_id").GetInt64() == id
                || e.Action == PushNames.OfflineMessages && e.Data!.Value.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("message_id").GetInt64() == id)),
                Patience, $"round {round}: the push of message {id}");
            await busy;
        }
    }

    // Keeps Redis busy for 300 ms (far below its 5 s busy-script limit).
    private const string BusyScript = """
        local t = redis.call('TIME')
        local start = t[1] * 1000000 + t[2]
        repeat
          local n = redis.call('TIME')
          if n[1] * 1000000 + n[2] - start > 300000 then return 1 end
        until false
        """;

    private static Task<ChatClient> ConnectAsync(ClusterKit kit, int node) =>
        kit.ConnectAsync(node, AccountsHarness.RandomLoopback());

    private sealed record Row(string Event, string? ClientId, string? Device, string? Ip, bool Ok, string? Detail);

    private static async Task<List<Row>> KickedAndMarkerRowsAsync(ClusterKit kit, uint user)
    {
        await using var connection = await kit.Db.DataSource.OpenConnectionAsync();
        await using var select = new MySqlCommand(
            "SELECT event, client_id, device, ip, outcome, detail FROM audit_events WHERE user_id = @u AND event IN ('kicked', 'login_failed') ORDER BY event_id",
            connection);
        select.Parameters.AddWithValue("@u", user);
        await using var reader = await select.ExecuteReaderAsync();
        var rows = new List<Row>();
        while (await reader.ReadAsync())
            rows.Add(new Row(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetByte(4) == 1, reader.IsDBNull(5) ? null : reader.GetString(5)));
        return rows;
    }
}
