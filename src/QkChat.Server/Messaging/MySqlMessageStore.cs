using MySqlConnector;
using QkChat.Core.Messaging;
using QkChat.Server.Storage;

namespace QkChat.Server.Messaging;

/// <summary>
/// Messages in MariaDB. Every query is parameterized and names the calling user in its WHERE clause, so an id
/// from another conversation matches nothing. Storing new messages is in MySqlMessageStore.Insert.cs, reads in
/// MySqlMessageStore.Queries.cs.
/// </summary>
public sealed partial class MySqlMessageStore(MySqlDataSource db) : IMessageStore
{
    // file_id last: readers of extra columns after these count from Columns' length (ConversationsAsync).
    private const string Columns = "message_id, sender_id, receiver_id, content, type, created_at, status, recalled, file_id";

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
        r.GetInt64(offset + 5), (MessageStatus)r.GetByte(offset + 6), r.GetBoolean(offset + 7), r.IsDBNull(offset + 8) ? null : r.GetInt64(offset + 8));

    private static Task<List<MessageRecord>> WithFilesAsync(MySqlConnection connection, List<MessageRecord> page, CancellationToken ct) =>
        QkChat.Server.Files.FileRows.WithFilesAsync(connection, page, static m => m.FileId, static (m, file) => m with { File = file }, ct);
}
