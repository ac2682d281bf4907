using MySqlConnector;
using QkChat.Client;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Cluster;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19, the reads that page by id across nodes (docs/cluster.md "Read marks"). Node B's message "first" is held in
/// flight by a real row lock, no hook in the server: the test inserts, without committing, the row (alice, "held") that
/// B's send of that client_msg_id will insert, so B's batch waits on the unique key (sender_id, client_msg_id) (as
/// <see cref="Chat.OutOfOrderCommit"/> does on one node). Carol's later message "second" commits on node A meanwhile.
/// A device that is shown "second" before "first" and keeps the largest id it saw as its cursor skips "first" for good.
/// </summary>
public sealed class ReadMarkTests
{
    private const string HeldKey = "held";
    private const int A = 0, B = 1;

    // Two processes start one after the other on a loaded 2-core box (each ~5-10 s), a held lock, waits of up to 30 s.
    [Fact(Timeout = 240_000)]
    public async Task Sync_and_history_on_one_node_do_not_pass_another_nodes_message_in_flight_and_a_cursor_skips_nothing()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        await using var s = await Scene.StartAsync(kit, uLoggedIn: true);
        long zeroB = await SendOk(s.AliceOnB, s.U, "zero from node B");
        long zeroA = await SendOk(s.CarolOnA, s.U, "zero from node A");
        await using var hold = await s.HoldFirstAsync();
        long second = await SendOk(s.CarolOnA, s.U, "second, on node A", "zz-second");

        // Node B's word names "first" in flight: sync on A shows what lies below it and says there is more.
        var (synced, more) = await SyncAsync(s.UOnA!, 0);
        Assert.True(synced.SequenceEqual([zeroB, zeroA]) && more,
            $"sync_messages on node A while node B's earlier message is in flight: [{string.Join(", ", synced)}] has_more {more} (second {second})");
        var page = await HistoryAsync(s.UOnA!, s.Carol);
        Assert.True(page.SequenceEqual([zeroA]), $"get_chat_history on node A shows [{string.Join(", ", page)}] while node B's earlier message is in flight");

        long first = await hold.ReleaseAsync();
        Assert.True(first < second, $"first ({first}) was minted before second ({second})");
        // The client's cursor is the largest id it was shown: nothing after it is skipped.
        (synced, more) = await Wait.ForAsync(() => SyncAsync(s.UOnA!, zeroA), r => !r.More, "u's sync on node A to reach the end");
        Assert.Equal([first, second], synced);
        Assert.Equal([second, zeroA], await HistoryAsync(s.UOnA!, s.Carol)); // newest first
    }

    [Fact(Timeout = 240_000)]
    public async Task The_offline_queue_at_login_waits_for_another_nodes_message_in_flight_then_brings_what_was_stored_before_the_login()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        await using var s = await Scene.StartAsync(kit, uLoggedIn: false);
        long zeroA = await SendOk(s.CarolOnA, s.U, "zero from node A");
        await using var hold = await s.HoldFirstAsync();
        // Stored and released on node A while u is away: no device of u was registered, so only an offline batch brings it.
        long second = await SendOk(s.CarolOnA, s.U, "second, on node A", "zz-second");
        var phone = await kit.LoginAsync(A, s.UName, s.U, "phone");

        // The first batch stops below node B's message in flight and says there is more.
        var batch = (await Push(phone, "offline_messages")).Data!.Value;
        Assert.True(Ids(batch.GetProperty("messages")).SequenceEqual([zeroA]) && batch.GetProperty("has_more").GetBoolean(),
            $"the offline batch at login while node B's earlier message is in flight: {batch} (second {second}); {await WordsAsync(kit)}");
        var got = new List<long> { zeroA };
        await AckAsync(phone, [zeroA]);

        long first = await hold.ReleaseAsync();
        Assert.True(first < second, $"first ({first}) was minted before second ({second})");
        // "first" comes live (the device is registered) or in the drain's next batch; "second" only in the next batch.
        while (!got.Contains(first) || !got.Contains(second))
        {
            var e = await phone.WaitForAsync(e => e.Push && e.Action is "message" or "offline_messages", Patience * 3, "a message or an offline batch");
            long[] ids = e.Action == "message" ? [e.Data!.Value.GetProperty("message_id").GetInt64()] : Ids(e.Data!.Value.GetProperty("messages"));
            got.AddRange(ids);
            if (e.Action != "message") await AckAsync(phone, ids);
        }
        Assert.Equal([zeroA, first, second], got); // each once, in id order
        await NoPush(phone, "message");
    }

    private static Task AckAsync(ChatClient client, long[] ids) => Ok(client.RequestAsync("message_ack", w =>
    {
        w.WriteStartArray("message_ids");
        foreach (long id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
    }));

    [Fact(Timeout = 240_000)]
    public async Task A_sigkilled_node_with_a_message_in_flight_holds_readers_back_only_until_its_death_is_known()
    {
        // A 5 s lease (for tests): the dead node's number is free, and the others know it, within about 6 s.
        await using var kit = await ClusterKit.StartAsync(2, env: new Dictionary<string, string> { ["QKCHAT_NODE_LEASE_TTL_S"] = "5" });
        await using var s = await Scene.StartAsync(kit, uLoggedIn: true);
        long zeroA = await SendOk(s.CarolOnA, s.U, "zero from node A");
        await using var hold = await s.HoldFirstAsync();
        long second = await SendOk(s.CarolOnA, s.U, "second, on node A", "zz-second");
        int nodeB = kit.NodeIdOf(B);
        var (synced, more) = await SyncAsync(s.UOnA!, 0);
        Assert.True(synced.SequenceEqual([zeroA]) && more, $"sync on node A while node B's message is in flight: [{string.Join(", ", synced)}] has_more {more}; {await WordsAsync(kit)}");

        kit.Nodes[B].Signal(9);
        await kit.Nodes[B].WaitForExitAsync(TimeSpan.FromSeconds(30));
        // B's word still stands in Redis with its floor (its key lives 30 s); readers let go of it once B's lease lapsed.
        var word = NodeReadMark.Parse(await kit.Redis.GetDatabase().StringGetAsync(ReadMarkPublisher.Key(nodeB)));
        Assert.True(word is { Floor: > 0 } w && w.Floor < second, $"node B's last word names its message in flight: {word}");
        (synced, more) = await Wait.ForAsync(() => SyncAsync(s.UOnA!, 0), r => !r.More, "u's sync on node A to reach the end after node B died");
        Assert.Equal([zeroA, second], synced); // "first" died with node B's transaction
        Assert.False(await kit.Redis.GetDatabase().KeyExistsAsync(NodeLease.Key(nodeB)), "node B's lease lapsed");
        Assert.True(await kit.Redis.GetDatabase().KeyExistsAsync(ReadMarkPublisher.Key(nodeB)),
            "node B's word is still in Redis: readers let go of it by the lease, not by its expiry");
        // A login's offline batch is not held back by the dead node either (u's messages are still `sent`).
        var tablet = await kit.LoginAsync(A, s.UName, s.U, "tablet");
        var batch = (await Push(tablet, "offline_messages")).Data!.Value;
        Assert.Equal([zeroA, second], Ids(batch.GetProperty("messages")));
        Assert.False(batch.GetProperty("has_more").GetBoolean(), $"the batch {batch}");
    }

    /// <summary>The nodes' published words, for failure messages.</summary>
    private static async Task<string> WordsAsync(ClusterKit kit)
    {
        var words = new List<string>();
        for (int i = 0; i < kit.Nodes.Length; i++)
            words.Add($"node {kit.NodeIdOf(i)}: {await kit.Redis.GetDatabase().StringGetAsync(ReadMarkPublisher.Key(kit.NodeIdOf(i)))}");
        return string.Join("; ", words);
    }

    private static async Task<(long[] Ids, bool More)> SyncAsync(ChatClient client, long after)
    {
        var data = await Ok(client.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", after)));
        return (Ids(data.GetProperty("messages")), data.GetProperty("has_more").GetBoolean());
    }

    private static async Task<long[]> HistoryAsync(ChatClient client, uint peer) =>
        Ids((await Ok(client.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", peer)))).GetProperty("messages"));

    /// <summary>alice on node B, carol on node A, both friends of u (on node A when <c>uLoggedIn</c>).</summary>
    private sealed class Scene(ClusterKit kit, uint alice, uint carol, uint u, string uName, ChatClient aliceOnB, ChatClient carolOnA, ChatClient? uOnA)
        : IAsyncDisposable
    {
        public uint Alice => alice;
        public uint Carol => carol;
        public uint U => u;
        public string UName => uName;
        public ChatClient AliceOnB => aliceOnB;
        public ChatClient CarolOnA => carolOnA;
        public ChatClient? UOnA => uOnA;

        public static async Task<Scene> StartAsync(ClusterKit kit, bool uLoggedIn)
        {
            // alice has the smallest id: carol's keys (carol, ...) sort above (alice, "held"), outside the gap the waiting
            // lock covers (user ids are random, so the order is chosen here; the other way carol's send waited on that gap).
            var users = new[] { await kit.CreateUserAsync(), await kit.CreateUserAsync(), await kit.CreateUserAsync() }.OrderBy(x => x.Id).ToArray();
            var ((alice, aliceName), (carol, carolName), (u, uName)) = (users[0], users[1], users[2]);
            await kit.MakeFriendsAsync(alice, carol, u);
            var aliceOnB = await kit.LoginAsync(B, aliceName, alice, "laptop");
            var carolOnA = await kit.LoginAsync(A, carolName, carol, "laptop");
            var uOnA = uLoggedIn ? await kit.LoginAsync(A, uName, u, "phone") : null;
            return new Scene(kit, alice, carol, u, uName, aliceOnB, carolOnA, uOnA);
        }

        /// <summary>Sends alice's "first" on node B and returns once node B's batch waits on the held key.</summary>
        public async Task<Hold> HoldFirstAsync()
        {
            var holder = await kit.Db.DataSource.OpenConnectionAsync();
            var tx = await holder.BeginTransactionAsync();
            await using (var insert = new MySqlCommand(
                "INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, content, created_at) " +
                "VALUES (1, @a, @u, LEAST(@a, @u), GREATEST(@a, @u), @k, 'placeholder', 0)", holder, tx))
            {
                insert.Parameters.AddWithValue("@a", alice);
                insert.Parameters.AddWithValue("@u", u);
                insert.Parameters.AddWithValue("@k", HeldKey);
                await insert.ExecuteNonQueryAsync();
            }
            var first = Send(aliceOnB, u, "first, on node B", HeldKey);
            await Wait.UntilAsync(() => CountAsync(kit, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'INSERT IGNORE INTO messages%'"),
                "node B's batch to wait for the held key");
            // And until node B has published that it has "first" in flight: the tests are about what readers do with a
            // node's floor, not about how soon a node publishes it. A node on a starved box can be silent longer than the
            // readers wait (docs/cluster.md "Read marks", the stalled-node risk), and then its older idle word is what
            // they have: a fresh-clone CI run failed that way once.
            await Wait.UntilAsync(async () => NodeReadMark.Parse(await kit.Redis.GetDatabase().StringGetAsync(ReadMarkPublisher.Key(kit.NodeIdOf(B))))
                is { Floor: > 0 }, "node B's published word to name its message in flight");
            return new Hold(holder, tx, first);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The held row lock; released (rolled back) by <see cref="ReleaseAsync"/> or at dispose.</summary>
    private sealed class Hold(MySqlConnection holder, MySqlTransaction tx, Task<QkChat.Protocol.Envelope> first) : IAsyncDisposable
    {
        private bool _released;

        /// <summary>Lets node B's batch commit and returns the id "first" was answered with.</summary>
        public async Task<long> ReleaseAsync()
        {
            await tx.RollbackAsync();
            _released = true;
            return (await Ok(first)).GetProperty("message_id").GetInt64();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_released) await tx.RollbackAsync();
            await tx.DisposeAsync();
            await holder.DisposeAsync();
        }
    }

    private static async Task<bool> CountAsync(ClusterKit kit, string sql)
    {
        await using var connection = await kit.Db.DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync()) > 0;
    }
}
