using QkChat.Server.Storage;
using System.Text;
using MySqlConnector;
using QkChat.Core.Messaging;

namespace QkChat.Server.Messaging;

/// <summary>
/// search_messages, delete_message, get_unread_counts (protocol.md §7) and the search terms written with each batch.
/// Tables message_search and message_deletions (sql/0003_social.sql); design in docs/messaging.md.
/// </summary>
public sealed partial class MySqlMessageStore
{
    private static readonly string QualifiedColumns = string.Join(", ", Columns.Split(", ").Select(c => "m." + c));

    /// <summary>One message_search row per stored message (INSERT IGNORE: indexing twice is harmless).</summary>
    public Task IndexAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", () => InsertSearchTermsAsync(batch, ct));

    public Task<IReadOnlyList<NewMessage>> UnindexedAsync(int limit, CancellationToken ct) =>
        ReadForIndexingAsync("m.message_id > (SELECT COALESCE(MAX(message_id), 0) FROM message_search)", 0, 0, limit, ct);

    // A primary-key range of messages, each checked against message_search's primary key.
    public Task<IReadOnlyList<NewMessage>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct) =>
        ReadForIndexingAsync("m.message_id BETWEEN @from AND @to AND NOT EXISTS (SELECT 1 FROM message_search s WHERE s.message_id = m.message_id)",
            fromId, toId, limit, ct);

    /// <summary>Stored, not recalled messages in <paramref name="range"/> (SQL over `m`, may use @from and @to), oldest first.</summary>
    private Task<IReadOnlyList<NewMessage>> ReadForIndexingAsync(string range, long fromId, long toId, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<NewMessage>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                "SELECT m.message_id, m.sender_id, m.receiver_id, m.client_msg_id, m.type, m.content, m.created_at FROM messages m " +
                $"WHERE {range} AND m.recalled = 0 ORDER BY m.message_id LIMIT @limit", connection);
            command.Parameters.AddWithValue("@from", fromId);
            command.Parameters.AddWithValue("@to", toId);
            command.Parameters.AddWithValue("@limit", limit);
            var list = new List<NewMessage>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                list.Add(new NewMessage(reader.GetInt64(0), reader.GetUInt32(1), reader.GetUInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetString(4), reader.GetString(5), reader.GetInt64(6)));
            return list;
        });

    private async Task InsertSearchTermsAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var sql = new StringBuilder("INSERT IGNORE INTO message_search (message_id, sender_id, receiver_id, user_lo, user_hi, terms) VALUES ");
        await using var insert = new MySqlCommand { Connection = connection };
        int n = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var m = batch[i];
            // Off the send path, behind it: the terms are strings anyway (SearchText).
            string terms = SearchText.Terms(m.ContentText(), m.SenderId, m.ReceiverId);
            if (terms.Length == 0) continue;
            if (n > 0) sql.Append(',');
            sql.Append($"(@i{n},@s{n},@r{n},@l{n},@h{n},@t{n})");
            insert.Parameters.AddWithValue($"@i{n}", m.MessageId);
            insert.Parameters.AddWithValue($"@s{n}", m.SenderId);
            insert.Parameters.AddWithValue($"@r{n}", m.ReceiverId);
            insert.Parameters.AddWithValue($"@l{n}", Math.Min(m.SenderId, m.ReceiverId));
            insert.Parameters.AddWithValue($"@h{n}", Math.Max(m.SenderId, m.ReceiverId));
            insert.Parameters.AddWithValue($"@t{n}", terms);
            n++;
        }
        if (n == 0) return;
        insert.CommandText = sql.ToString();
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The FULLTEXT lookup reads only the caller's postings (the query's terms carry the caller's id, see SearchText),
    /// so its work follows how many of the caller's messages match. The sender/receiver (or conversation) filter
    /// then stays as a second guard and narrows to one conversation, the join drops recalled messages, the
    /// anti-join deleted-for-me ones, and the newest <paramref name="limit"/> are kept. No table scan
    /// (bench/RESULTS.md has the measured cost).
    /// </summary>
    public Task<IReadOnlyList<MessageRecord>> SearchAsync(uint userId, uint? peerId, string query, int limit, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", () => QueryAsync(
            $"SELECT {QualifiedColumns} FROM message_search s JOIN messages m ON m.message_id = s.message_id " +
            "WHERE MATCH (s.terms) AGAINST (@q IN BOOLEAN MODE) " +
            (peerId is null ? "AND (s.sender_id = @me OR s.receiver_id = @me) " : "AND s.user_lo = @lo AND s.user_hi = @hi ") +
            "AND m.recalled = 0 " + NotDeletedForMe +
            " ORDER BY s.message_id DESC LIMIT @limit", ct,
            ("@q", query), ("@me", userId), ("@lo", Math.Min(userId, peerId ?? 0)), ("@hi", Math.Max(userId, peerId ?? 0)), ("@limit", limit)));

    public Task<DeleteOutcome> DeleteForUserAsync(uint userId, long messageId, long at, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using (var find = new MySqlCommand(
                             "SELECT 1 FROM messages WHERE message_id = @id AND (sender_id = @me OR receiver_id = @me)", connection))
            {
                find.Parameters.AddWithValue("@id", messageId);
                find.Parameters.AddWithValue("@me", userId);
                if (await find.ExecuteScalarAsync(ct) is null) return DeleteOutcome.NotFound;
            }
            // The foreign key keeps the row honest if the message vanished meanwhile; IGNORE makes a repeat harmless.
            await using var insert = new MySqlCommand(
                "INSERT IGNORE INTO message_deletions (user_id, message_id, deleted_at) VALUES (@me, @id, @at)", connection);
            insert.Parameters.AddWithValue("@me", userId);
            insert.Parameters.AddWithValue("@id", messageId);
            insert.Parameters.AddWithValue("@at", at);
            return await insert.ExecuteNonQueryAsync(ct) == 1 ? DeleteOutcome.Deleted : DeleteOutcome.AlreadyDeleted;
        });

    public Task<IReadOnlyList<UnreadCount>> UnreadCountsAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<UnreadCount>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // ix_messages_inbox (receiver_id, status, message_id): two ranges (sent, delivered), never the read history.
            await using var command = new MySqlCommand(
                "SELECT sender_id, COUNT(*) FROM messages m WHERE receiver_id = @me AND status IN (1, 2) AND recalled = 0 " +
                NotDeletedForMe + " GROUP BY sender_id", connection);
            command.Parameters.AddWithValue("@me", userId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            var counts = new List<UnreadCount>();
            while (await reader.ReadAsync(ct)) counts.Add(new UnreadCount(reader.GetUInt32(0), reader.GetInt32(1)));
            return counts;
        });
}
