using System.Text;
using MySqlConnector;
using QkChat.Core.Messaging;
using QkChat.Server.Accounts;

namespace QkChat.Server.Messaging;

/// <summary>
/// Messages in MariaDB. Every query is parameterized and names the calling user in its WHERE clause, so an id
/// from another conversation matches nothing. Reads are in MySqlMessageStore.Queries.cs.
/// </summary>
public sealed partial class MySqlMessageStore(MySqlDataSource db) : IMessageStore
{
    private const string Columns = "message_id, sender_id, receiver_id, content, type, created_at, status, recalled";

    public Task<StoreOutcome[]> InsertBatchAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // INSERT IGNORE skips rows whose (sender_id, client_msg_id) is already stored (a retry): they are found below.
            var sql = new StringBuilder("INSERT IGNORE INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, type, content, created_at) VALUES ");
            await using var insert = new MySqlCommand { Connection = connection, Transaction = transaction };
            for (int i = 0; i < batch.Count; i++)
            {
                var m = batch[i];
                if (i > 0) sql.Append(',');
                sql.Append($"(@i{i},@s{i},@r{i},@l{i},@h{i},@c{i},@t{i},@b{i},@a{i})");
                insert.Parameters.AddWithValue($"@i{i}", m.MessageId);
                insert.Parameters.AddWithValue($"@s{i}", m.SenderId);
                insert.Parameters.AddWithValue($"@r{i}", m.ReceiverId);
                insert.Parameters.AddWithValue($"@l{i}", Math.Min(m.SenderId, m.ReceiverId));
                insert.Parameters.AddWithValue($"@h{i}", Math.Max(m.SenderId, m.ReceiverId));
                insert.Parameters.AddWithValue($"@c{i}", m.ClientMsgId);
                insert.Parameters.AddWithValue($"@t{i}", m.Type);
                insert.Parameters.AddWithValue($"@b{i}", m.Content);
                insert.Parameters.AddWithValue($"@a{i}", m.Timestamp);
            }
            insert.CommandText = sql.ToString();
            int inserted = await insert.ExecuteNonQueryAsync(ct);
            var outcomes = new StoreOutcome[batch.Count];
            for (int i = 0; i < batch.Count; i++) outcomes[i] = new StoreOutcome(true, batch[i].MessageId, batch[i].Timestamp);
            if (inserted < batch.Count) await ResolveRepeatsAsync(connection, transaction, batch, outcomes, ct);
            await transaction.CommitAsync(ct);
            return outcomes;
        });

    /// <summary>Rows that INSERT IGNORE skipped repeated a client_msg_id: they answer with the first message's id.</summary>
    private static async Task ResolveRepeatsAsync(MySqlConnection connection, MySqlTransaction transaction, IReadOnlyList<NewMessage> batch,
        StoreOutcome[] outcomes, CancellationToken ct)
    {
        var stored = new Dictionary<(uint, string), (long Id, long At)>();
        await using var find = new MySqlCommand { Connection = connection, Transaction = transaction };
        var sql = new StringBuilder("SELECT sender_id, client_msg_id, message_id, created_at FROM messages WHERE ");
        int n = 0;
        foreach (var m in batch)
        {
            if (m.ClientMsgId is null) continue;
            if (n > 0) sql.Append(" OR ");
            sql.Append($"(sender_id = @s{n} AND client_msg_id = @c{n})");
            find.Parameters.AddWithValue($"@s{n}", m.SenderId);
            find.Parameters.AddWithValue($"@c{n}", m.ClientMsgId);
            n++;
        }
        if (n == 0) return;
        find.CommandText = sql.ToString();
        await using (var reader = await find.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                stored[(reader.GetUInt32(0), reader.GetString(1))] = (reader.GetInt64(2), reader.GetInt64(3));
        }
        for (int i = 0; i < batch.Count; i++)
        {
            var m = batch[i];
            if (m.ClientMsgId is not null && stored.TryGetValue((m.SenderId, m.ClientMsgId), out var first) && first.Id != m.MessageId)
                outcomes[i] = new StoreOutcome(false, first.Id, first.At);
        }
    }

    public Task<IReadOnlyList<StatusChange>> MarkDeliveredAsync(IReadOnlyList<DeliveryAck> acks, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<StatusChange>>("MariaDB", async () =>
        {
            var ids = new List<long>();
            var wanted = new HashSet<(uint, long)>();
            foreach (var ack in acks)
            {
                ids.AddRange(ack.MessageIds);
                foreach (long id in ack.MessageIds) wanted.Add((ack.ReceiverId, id));
            }
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // By primary key, locked: two devices acking one message at once tell its sender once.
            await using var select = new MySqlCommand(
                $"SELECT message_id, sender_id, receiver_id FROM messages WHERE message_id IN ({InList(ids.Count, "@m")}) AND status = 1 FOR UPDATE",
                connection, transaction);
            for (int i = 0; i < ids.Count; i++) select.Parameters.AddWithValue("@m" + i, ids[i]);
            var found = new List<StatusChange>();
            await using (var reader = await select.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) found.Add(new StatusChange(reader.GetInt64(0), reader.GetUInt32(1), reader.GetUInt32(2)));
            }
            // Only the receiver's own ack counts: an id acked by anyone else changes nothing.
            var changed = found.Where(f => wanted.Contains((f.ReceiverId, f.MessageId))).ToList();
            if (changed.Count > 0)
            {
                await using var update = new MySqlCommand(
                    $"UPDATE messages SET status = 2 WHERE status = 1 AND message_id IN ({InList(changed.Count, "@m")})", connection, transaction);
                for (int i = 0; i < changed.Count; i++) update.Parameters.AddWithValue("@m" + i, changed[i].MessageId);
                await update.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
            return changed;
        });

    public Task<int> MarkReadAsync(uint readerId, uint peerId, long upToMessageId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                "UPDATE messages SET status = 3 WHERE user_lo = @lo AND user_hi = @hi AND message_id <= @up " +
                "AND receiver_id = @me AND status < 3", connection);
            command.Parameters.AddWithValue("@lo", Math.Min(readerId, peerId));
            command.Parameters.AddWithValue("@hi", Math.Max(readerId, peerId));
            command.Parameters.AddWithValue("@up", upToMessageId);
            command.Parameters.AddWithValue("@me", readerId);
            return await command.ExecuteNonQueryAsync(ct);
        });

    public Task<bool> RecallAsync(uint senderId, long messageId, long at, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                "UPDATE messages SET recalled = 1, recalled_at = @at, content = '' WHERE message_id = @id AND sender_id = @s AND recalled = 0",
                connection);
            command.Parameters.AddWithValue("@at", at);
            command.Parameters.AddWithValue("@id", messageId);
            command.Parameters.AddWithValue("@s", senderId);
            if (await command.ExecuteNonQueryAsync(ct) != 1) return false;
            // Its words leave the index with its content: a recalled message is never found (and its text is gone).
            await using var unindex = new MySqlCommand("DELETE FROM message_search WHERE message_id = @id", connection);
            unindex.Parameters.AddWithValue("@id", messageId);
            await unindex.ExecuteNonQueryAsync(ct);
            return true;
        });

    private static string InList(int count, string prefix) =>
        string.Join(',', Enumerable.Range(0, count).Select(i => prefix + i));

    private static MessageRecord ReadMessage(MySqlDataReader r, int offset = 0) => new(
        r.GetInt64(offset), r.GetUInt32(offset + 1), r.GetUInt32(offset + 2), r.GetString(offset + 3), r.GetString(offset + 4),
        r.GetInt64(offset + 5), (MessageStatus)r.GetByte(offset + 6), r.GetBoolean(offset + 7));
}
