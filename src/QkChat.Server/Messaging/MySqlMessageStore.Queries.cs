using MySqlConnector;
using QkChat.Core.Messaging;
using QkChat.Server.Storage;

namespace QkChat.Server.Messaging;

public sealed partial class MySqlMessageStore
{
    /// <summary>
    /// delete_message hides a message from one user: every read of "my messages" (alias m, parameter @me) leaves out
    /// what @me deleted, by a primary-key probe of message_deletions per candidate row.
    /// </summary>
    private const string NotDeletedForMe =
        "AND NOT EXISTS (SELECT 1 FROM message_deletions d WHERE d.user_id = @me AND d.message_id = m.message_id)";

    public Task<MessageRecord?> FindAsync(uint userId, long messageId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            var rows = await QueryAsync(
                $"SELECT {Columns} FROM messages WHERE message_id = @id AND (sender_id = @me OR receiver_id = @me)", ct,
                ("@id", messageId), ("@me", userId));
            return rows.Count == 0 ? null : rows[0];
        });

    public Task<IReadOnlyList<MessageRecord>> HistoryAsync(uint userId, uint peerId, int limit, int offset, long? beforeMessageId, long visibleBelow,
        CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", () => QueryAsync(
            $"SELECT {Columns} FROM messages m WHERE user_lo = @lo AND user_hi = @hi AND message_id < @visible " +
            (beforeMessageId is null ? "" : "AND message_id < @before ") + NotDeletedForMe +
            " ORDER BY message_id DESC LIMIT @limit OFFSET @offset", ct,
            ("@lo", Math.Min(userId, peerId)), ("@hi", Math.Max(userId, peerId)), ("@visible", visibleBelow), ("@before", beforeMessageId), ("@me", userId),
            ("@limit", limit), ("@offset", beforeMessageId is null ? offset : 0)));

    public Task<IReadOnlyList<MessageRecord>> SyncAsync(uint userId, long afterMessageId, long beforeMessageId, int limit, CancellationToken ct) =>
        // Two index ranges (received, sent), each already in id order, merged: no scan of the whole history.
        BackendErrors.Guard("MariaDB", () => QueryAsync(
            $"(SELECT {Columns} FROM messages m WHERE receiver_id = @me AND message_id > @after AND message_id < @before {NotDeletedForMe} ORDER BY message_id LIMIT @limit) " +
            $"UNION ALL (SELECT {Columns} FROM messages m WHERE sender_id = @me AND message_id > @after AND message_id < @before {NotDeletedForMe} ORDER BY message_id LIMIT @limit) " +
            "ORDER BY message_id LIMIT @limit", ct,
            ("@me", userId), ("@after", afterMessageId), ("@before", beforeMessageId), ("@limit", limit)));

    public Task<IReadOnlyList<MessageRecord>> UndeliveredAsync(uint userId, long afterMessageId, long beforeMessageId, int limit, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", () => QueryAsync(
            $"SELECT {Columns} FROM messages m WHERE receiver_id = @me AND status = 1 AND message_id > @after AND message_id < @before " +
            "AND recalled = 0 " + NotDeletedForMe + " ORDER BY message_id LIMIT @limit", ct,
            ("@me", userId), ("@after", afterMessageId), ("@before", beforeMessageId), ("@limit", limit)));

    /// <summary>
    /// Conversations from the messages themselves: the newest message per peer over my sent and received ranges,
    /// then each one's row and unread count. It reads every message id of mine once (index only), which is
    /// milliseconds for thousands of messages; a summary table maintained by the writer is the step after that.
    /// </summary>
    public Task<IReadOnlyList<ConversationSummary>> ConversationsAsync(uint userId, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<ConversationSummary>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                $"SELECT {string.Join(", ", Columns.Split(", ").Select(c => "m." + c))}, u.username, " +
                "(SELECT COUNT(*) FROM messages x WHERE x.receiver_id = @me AND x.status IN (1, 2) AND x.sender_id = c.peer AND x.recalled = 0 " +
                "  AND NOT EXISTS (SELECT 1 FROM message_deletions d WHERE d.user_id = @me AND d.message_id = x.message_id)) " +
                "FROM (SELECT peer, MAX(message_id) AS last_id FROM (" +
                $"  SELECT receiver_id AS peer, message_id FROM messages m WHERE sender_id = @me {NotDeletedForMe} " +
                $"  UNION ALL SELECT sender_id, message_id FROM messages m WHERE receiver_id = @me {NotDeletedForMe}) t " +
                " GROUP BY peer ORDER BY last_id DESC LIMIT @limit) c " +
                "JOIN messages m ON m.message_id = c.last_id JOIN users u ON u.user_id = c.peer ORDER BY c.last_id DESC", connection);
            command.Parameters.AddWithValue("@me", userId);
            command.Parameters.AddWithValue("@limit", limit);
            var list = new List<ConversationSummary>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var last = ReadMessage(reader);
                uint peer = last.SenderId == userId ? last.ReceiverId : last.SenderId;
                list.Add(new ConversationSummary(peer, reader.GetString(9), last, reader.GetInt32(10)));
            }
            await reader.DisposeAsync();
            var lasts = await WithFilesAsync(connection, list.Select(c => c.LastMessage).ToList(), ct);
            return list.Select((c, i) => c with { LastMessage = lasts[i] }).ToList();
        });

    private async Task<IReadOnlyList<MessageRecord>> QueryAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        var list = new List<MessageRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(ReadMessage(reader));
        await reader.DisposeAsync();
        return await WithFilesAsync(connection, list, ct);
    }
}
