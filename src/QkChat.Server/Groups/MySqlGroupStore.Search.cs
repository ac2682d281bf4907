using System.Text;
using MySqlConnector;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Server.Storage;

namespace QkChat.Server.Groups;

/// <summary>
/// search_messages over group entries: the terms table chat_group_search (sql/0009_group_search.sql), written by
/// GroupSearchIndexer behind the group writer, and the search itself. Design in docs/messaging.md "Search in groups".
/// </summary>
public sealed partial class MySqlGroupStore
{
    /// <summary>One chat_group_search row per text entry (INSERT IGNORE: indexing twice is harmless).</summary>
    public Task IndexAsync(IReadOnlyList<IndexedGroupEntry> entries, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var insert = new MySqlCommand();
            var sql = new StringBuilder("INSERT IGNORE INTO chat_group_search (message_id, group_id, seq, terms) VALUES ");
            int n = 0;
            foreach (var e in entries)
            {
                string terms = SearchText.GroupTerms(e.Content, e.GroupId);
                if (terms.Length == 0) continue;
                sql.Append(n == 0 ? "" : ",").Append($"(@i{n},@g{n},@q{n},@t{n})");
                insert.Parameters.AddWithValue($"@i{n}", e.MessageId);
                insert.Parameters.AddWithValue($"@g{n}", e.GroupId);
                insert.Parameters.AddWithValue($"@q{n}", e.Seq);
                insert.Parameters.AddWithValue($"@t{n}", terms);
                n++;
            }
            if (n == 0) return;
            await using var connection = await db.OpenConnectionAsync(ct);
            insert.Connection = connection;
            insert.CommandText = sql.ToString();
            await insert.ExecuteNonQueryAsync(ct);
        });

    // A range of uk_chat_group_entries_message from GroupSearchIndexer.CatchUpLookback below the newest indexed id (MAX()
    // from the primary key's end), each checked against chat_group_search's primary key.
    public Task<IReadOnlyList<IndexedGroupEntry>> UnindexedAsync(int limit, CancellationToken ct) =>
        ReadForIndexingAsync("e.message_id > (SELECT COALESCE(MAX(message_id), 0) FROM chat_group_search) - @from " +
            "AND NOT EXISTS (SELECT 1 FROM chat_group_search s WHERE s.message_id = e.message_id)",
            MessageIds.IdSpan(GroupSearchIndexer.CatchUpLookback), 0, limit, ct);

    // A range of uk_chat_group_entries_message, each checked against chat_group_search's primary key.
    public Task<IReadOnlyList<IndexedGroupEntry>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct) =>
        ReadForIndexingAsync("e.message_id BETWEEN @from AND @to AND NOT EXISTS (SELECT 1 FROM chat_group_search s WHERE s.message_id = e.message_id)",
            fromId, toId, limit, ct);

    /// <summary>Text entries, not recalled, in <paramref name="range"/> (SQL over `e`, may use @from and @to), oldest first.</summary>
    private Task<IReadOnlyList<IndexedGroupEntry>> ReadForIndexingAsync(string range, long fromId, long toId, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<IndexedGroupEntry>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                "SELECT e.message_id, e.group_id, e.seq, e.content FROM chat_group_entries e " +
                $"WHERE {range} AND e.type = 'text' AND e.recalled = 0 ORDER BY e.message_id LIMIT @limit", connection);
            command.Parameters.AddWithValue("@from", fromId);
            command.Parameters.AddWithValue("@to", toId);
            command.Parameters.AddWithValue("@limit", limit);
            var list = new List<IndexedGroupEntry>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                list.Add(new IndexedGroupEntry(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3)));
            return list;
        });

    public Task<IReadOnlyList<long>> MyGroupIdsAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<long>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // ix_chat_group_members_user (user_id, state, group_id): the caller's memberships only.
            await using var command = new MySqlCommand(
                "SELECT m.group_id FROM chat_group_members m JOIN chat_groups g ON g.group_id = m.group_id AND g.dissolved_at IS NULL " +
                "WHERE m.user_id = @me AND m.state = 0 ORDER BY m.group_id", connection);
            command.Parameters.AddWithValue("@me", userId);
            var list = new List<long>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) list.Add(reader.GetInt64(0));
            return list;
        });

    /// <summary>
    /// The FULLTEXT lookup reads only the postings of the groups the query names (the terms carry the group id, see
    /// SearchText.GroupTerms), so its work follows how many of the caller's groups' entries match. The joins are the
    /// rule, whatever the query names: a current membership of a group that is not dissolved, a seq at or after the
    /// caller's joined_seq, a `text` entry not recalled. With <paramref name="groupId"/>, MembershipSql runs first in
    /// the same command (NOT_FOUND for a non-member, as every group read).
    /// </summary>
    public Task<IReadOnlyList<GroupEntry>?> SearchAsync(uint userId, long? groupId, string? query, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<GroupEntry>?>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var sql = new StringBuilder();
            if (groupId is not null) sql.Append(MembershipSql);
            if (query is not null)
                sql.Append($"SELECT {EntryColumns} FROM chat_group_search s ")
                    .Append("JOIN chat_group_members m ON m.group_id = s.group_id AND m.user_id = @me AND m.state = 0 AND s.seq >= m.joined_seq ")
                    .Append("JOIN chat_groups g ON g.group_id = s.group_id AND g.dissolved_at IS NULL ")
                    .Append("JOIN chat_group_entries e ON e.group_id = s.group_id AND e.seq = s.seq AND e.type = 'text' AND e.recalled = 0 ")
                    .Append("WHERE MATCH (s.terms) AGAINST (@q IN BOOLEAN MODE) ")
                    .Append(groupId is null ? "" : "AND s.group_id = @g ")
                    .Append("ORDER BY s.message_id DESC LIMIT @limit");
            var list = new List<GroupEntry>();
            if (sql.Length == 0) return list;
            await using var command = new MySqlCommand(sql.ToString(), connection);
            command.Parameters.AddWithValue("@me", userId);
            command.Parameters.AddWithValue("@g", groupId ?? 0);
            command.Parameters.AddWithValue("@q", query);
            command.Parameters.AddWithValue("@limit", limit);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (groupId is not null)
            {
                if (!await reader.ReadAsync(ct)) return null;
                if (!await reader.NextResultAsync(ct)) return list;
            }
            while (await reader.ReadAsync(ct)) list.Add(ReadEntry(reader));
            return list;
        });
}
