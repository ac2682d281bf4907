using MySqlConnector;
using QkChat.Client;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19, "every rule across nodes" (docs/messaging.md "Several nodes"): the reads that page by message id are
/// bounded by every live node's watermark, not only their own node's. Node B's message is held in flight by a real
/// row lock, no hook in the server: the test inserts, without committing, the row (alice, "held") that B's send of
/// that client_msg_id will insert, so B's batch waits on the unique key (sender_id, client_msg_id) (as
/// <see cref="Chat.OutOfOrderCommit"/> does on one node). A later message of carol commits on node A meanwhile.
/// </summary>
public sealed class ClusterWatermarkTests
{
    private const string HeldKey = "held";

    // Two processes start one after the other on a loaded 2-core box (each ~5-10 s), a held lock, waits of up to 30 s.
    [Fact(Timeout = 180_000)]
    public async Task A_read_on_one_node_holds_back_its_later_message_while_another_nodes_earlier_one_is_in_flight()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        const int A = 0, B = 1;
        // alice before carol: carol's key (carol, ...) sorts above (alice, "held"), outside the gap the waiting lock covers.
        var (alice, aliceName) = await kit.CreateUserAsync();
        var (carol, carolName) = await kit.CreateUserAsync();
        var (u, uName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(alice, carol, u);
        var aliceOnB = await kit.LoginAsync(B, aliceName, alice, "laptop");
        var carolOnA = await kit.LoginAsync(A, carolName, carol, "laptop");
        var uOnA = await kit.LoginAsync(A, uName, u, "phone");
        long zeroB = await SendOk(aliceOnB, u, "zero from node B");
        long zeroA = await SendOk(carolOnA, u, "zero from node A");

        await using var holder = await kit.Db.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var insert = new MySqlCommand(
            "INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, content, created_at) " +
            "VALUES (1, @a, @u, LEAST(@a, @u), GREATEST(@a, @u), @k, 'placeholder', 0)", holder, hold))
        {
            insert.Parameters.AddWithValue("@a", alice);
            insert.Parameters.AddWithValue("@u", u);
            insert.Parameters.AddWithValue("@k", HeldKey);
            await insert.ExecuteNonQueryAsync();
        }
        var first = Send(aliceOnB, u, "first, on node B", HeldKey);
        await Wait.UntilAsync(() => CountAsync(kit, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'INSERT IGNORE INTO messages%'"),
            "node B's batch to wait for the held key");
        // Minted on node A after node B minted "first" (which is in flight), and committed.
        long second = await SendOk(carolOnA, u, "second, on node A", "zz-second");

        // Both earlier messages come into view (a published mark lags by a period or two); the later one must not while
        // node B's earlier one is in flight.
        var synced = await Wait.ForAsync(() => SyncAsync(uOnA), p => p.Contains(zeroB) && p.Contains(zeroA), "the earlier messages in u's sync on node A");
        Assert.False(synced.Contains(second), $"sync_messages on node A shows {second} while node B's earlier message is in flight: [{string.Join(", ", synced)}]");
        var page = await Wait.ForAsync(() => HistoryAsync(uOnA, carol), p => p.Contains(zeroA), "carol's earlier message in u's history on node A");
        Assert.False(page.Contains(second), $"get_chat_history on node A shows {second} while node B's earlier message is in flight: [{string.Join(", ", page)}]");
        // The gauge says how far behind this node's own watermark the cluster bound is: it grows while B's batch is held.
        await Wait.UntilAsync(async () => await kit.MetricAsync(A, "qkchat_messages_cluster_watermark_lag_ms") >= 1000,
            "node A's cluster watermark lag to pass a second while node B's batch is held");

        await hold.RollbackAsync();
        long firstId = (await Ok(first)).GetProperty("message_id").GetInt64();
        Assert.True(firstId < second, $"first ({firstId}) was minted before second ({second})");
        synced = await Wait.ForAsync(() => SyncAsync(uOnA), p => p.Contains(second), "the later message in u's sync on node A after the release");
        Assert.Equal([zeroB, zeroA, firstId, second], synced); // every one, in id order
        page = await Wait.ForAsync(() => HistoryAsync(uOnA, alice), p => p.Contains(firstId), "alice's first in u's history on node A");
        Assert.Equal([firstId, zeroB], page); // newest first
        await Wait.UntilAsync(async () => await kit.MetricAsync(A, "qkchat_messages_cluster_watermark_lag_ms") < 1000,
            "node A's cluster watermark lag to fall back after the release");
    }

    private static async Task<long[]> SyncAsync(ChatClient client) =>
        Ids((await Ok(client.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", 0)))).GetProperty("messages"));

    private static async Task<long[]> HistoryAsync(ChatClient client, uint peer) =>
        Ids((await Ok(client.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", peer)))).GetProperty("messages"));

    private static async Task<bool> CountAsync(ClusterKit kit, string sql)
    {
        await using var connection = await kit.Db.DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync()) > 0;
    }
}
