using System.Globalization;
using System.Text;
using MySqlConnector;
using QkChat.Core.Groups;
using QkChat.Server.Storage;

namespace QkChat.Server.Groups;

/// <summary>
/// Reads, mark read and recall. Every one names the caller (@me) and requires a current membership of a group that is
/// not dissolved; timeline reads start at the caller's joined_seq. The membership check and the read travel in one
/// command (two result sets), so a read costs one round trip.
/// </summary>
public sealed partial class MySqlGroupStore
{
    /// <summary>The caller's membership (first result set of a read): one row with joined_seq, or none.</summary>
    private const string MembershipSql =
        "SELECT m.joined_seq FROM chat_group_members m JOIN chat_groups g ON g.group_id = m.group_id " +
        "WHERE m.group_id = @g AND m.user_id = @me AND m.state = 0 AND g.dissolved_at IS NULL;";

    /// <summary>The caller's joined_seq as a subquery (the entries are read only when MembershipSql found a row).</summary>
    private const string JoinedSeq = "(SELECT joined_seq FROM chat_group_members WHERE group_id = @g AND user_id = @me)";

    public Task<GroupInfo?> InfoAsync(long groupId, uint userId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                "SELECT g.group_id, g.name, g.owner_id, g.created_at, g.member_count, g.max_seq FROM chat_groups g " +
                "JOIN chat_group_members m ON m.group_id = g.group_id AND m.user_id = @me AND m.state = 0 " +
                "WHERE g.group_id = @g AND g.dissolved_at IS NULL", connection);
            command.Parameters.AddWithValue("@g", groupId);
            command.Parameters.AddWithValue("@me", userId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return null;
            return new GroupInfo(reader.GetInt64(0), reader.GetString(1), reader.GetUInt32(2), reader.GetInt64(3), reader.GetInt32(4), reader.GetInt64(5));
        });

    public Task<IReadOnlyList<GroupEntry>?> HistoryAsync(long groupId, uint userId, long? beforeSeq, int limit, CancellationToken ct) =>
        // Backwards along the primary key from before_seq: one range, stopped at the caller's entry point.
        EntriesAsync(groupId, userId, ct,
            $"SELECT {EntryColumns} FROM chat_group_entries e WHERE e.group_id = @g AND e.seq >= {JoinedSeq} AND e.seq < @before " +
            "ORDER BY e.seq DESC LIMIT @limit", ("@before", beforeSeq ?? long.MaxValue), ("@limit", limit));

    public Task<IReadOnlyList<GroupEntry>?> SyncAsync(long groupId, uint userId, long afterSeq, int limit, CancellationToken ct) =>
        EntriesAsync(groupId, userId, ct,
            $"SELECT {EntryColumns} FROM chat_group_entries e WHERE e.group_id = @g AND e.seq >= {JoinedSeq} AND e.seq > @after " +
            "ORDER BY e.seq LIMIT @limit", ("@after", afterSeq), ("@limit", limit));

    public Task<GroupMemberPage?> MembersAsync(long groupId, uint userId, uint? afterUserId, int limit, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Along the primary key (group_id, user_id) from after_user_id; one row more than asked says whether there is more.
            await using var command = new MySqlCommand(MembershipSql +
                "SELECT m.user_id, u.username, m.role, m.joined_at FROM chat_group_members m JOIN users u ON u.user_id = m.user_id " +
                "WHERE m.group_id = @g AND m.state = 0 AND m.user_id > @after ORDER BY m.user_id LIMIT @limit", connection);
            command.Parameters.AddWithValue("@g", groupId);
            command.Parameters.AddWithValue("@me", userId);
            command.Parameters.AddWithValue("@after", afterUserId ?? 0);
            command.Parameters.AddWithValue("@limit", limit + 1);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return null;
            await reader.NextResultAsync(ct);
            var members = new List<GroupMember>();
            while (await reader.ReadAsync(ct))
                members.Add(new GroupMember(reader.GetUInt32(0), reader.GetString(1), (GroupRole)reader.GetByte(2), reader.GetInt64(3)));
            bool more = members.Count > limit;
            if (more) members.RemoveAt(limit);
            return new GroupMemberPage(members, more);
        });

    public Task<IReadOnlyList<uint>> MemberIdsAsync(long groupId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(
                "SELECT m.user_id FROM chat_group_members m JOIN chat_groups g ON g.group_id = m.group_id AND g.dissolved_at IS NULL " +
                "WHERE m.group_id = @g AND m.state = 0 ORDER BY m.user_id", connection);
            command.Parameters.AddWithValue("@g", groupId);
            var list = new List<uint>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) list.Add(reader.GetUInt32(0));
            return (IReadOnlyList<uint>)list;
        });

    public Task<GroupMembership> MembershipAsync(long groupId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Along the primary key (group_id, user_id): ordered by user id, which GroupMembership's lookups rely on.
            await using var command = new MySqlCommand(
                "SELECT m.user_id, m.role, m.joined_seq FROM chat_group_members m JOIN chat_groups g ON g.group_id = m.group_id AND g.dissolved_at IS NULL " +
                "WHERE m.group_id = @g AND m.state = 0 ORDER BY m.user_id", connection);
            command.Parameters.AddWithValue("@g", groupId);
            var ids = new List<uint>();
            var roles = new List<GroupRole>();
            var joined = new List<long>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetUInt32(0));
                roles.Add((GroupRole)reader.GetByte(1));
                joined.Add(reader.GetInt64(2));
            }
            return ids.Count == 0 ? GroupMembership.Empty : new GroupMembership([.. ids], [.. roles], [.. joined]);
        });

    /// <summary>Every group's members with one query: a range of the primary key per group, ordered as MembershipAsync.</summary>
    public Task<IReadOnlyDictionary<long, GroupMembership>> MembershipsAsync(IReadOnlyList<long> groupIds, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            var found = new Dictionary<long, GroupMembership>(groupIds.Count);
            if (groupIds.Count == 0) return (IReadOnlyDictionary<long, GroupMembership>)found;
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand { Connection = connection };
            var sql = new StringBuilder("SELECT m.group_id, m.user_id, m.role, m.joined_seq FROM chat_group_members m JOIN chat_groups g ON " +
                "g.group_id = m.group_id AND g.dissolved_at IS NULL WHERE m.state = 0 AND m.group_id IN (");
            for (int i = 0; i < groupIds.Count; i++)
            {
                sql.Append(i == 0 ? "@g0" : $",@g{i}");
                command.Parameters.AddWithValue($"@g{i}", groupIds[i]);
            }
            command.CommandText = sql.Append(") ORDER BY m.group_id, m.user_id").ToString();
            var ids = new List<uint>();
            var roles = new List<GroupRole>();
            var joined = new List<long>();
            long current = -1;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                long group = reader.GetInt64(0);
                if (group != current && ids.Count > 0) Flush();
                current = group;
                ids.Add(reader.GetUInt32(1));
                roles.Add((GroupRole)reader.GetByte(2));
                joined.Add(reader.GetInt64(3));
            }
            if (ids.Count > 0) Flush();
            return found;

            void Flush()
            {
                found[current] = new GroupMembership([.. ids], [.. roles], [.. joined]);
                ids.Clear();
                roles.Clear();
                joined.Clear();
            }
        });

    public Task<long> NewestMessageIdAsync(CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // The unique key on message_id answers MAX() from its last entry.
            await using var command = new MySqlCommand("SELECT COALESCE(MAX(message_id), 0) FROM chat_group_entries", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        });

    /// <summary>
    /// My memberships by ix_chat_group_members_user, each with its group row and newest entry (at max_seq, by primary
    /// key); then the unread counts. Those are a second statement with each group's bound as a value: MariaDB (10.11)
    /// uses only the group_id part of the primary key when the seq bound comes from an outer row (a correlated subquery
    /// or a join), and so read every entry the group ever had (2,000 rows read for 7 counted in EXPLAIN ANALYZE); with
    /// the bound as a value each count is a range of the primary key from max(read_seq, joined_seq), costing what is
    /// unread, and a group with nothing after that bound is not asked at all.
    /// </summary>
    public Task<IReadOnlyList<GroupSummary>> MyGroupsAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var list = new List<GroupSummary>();
            var unreadFrom = new List<(int Index, long From)>();
            await using (var command = new MySqlCommand(
                "SELECT g.group_id, g.name, m.role, g.member_count, g.max_seq, m.read_seq, GREATEST(m.read_seq, m.joined_seq), " +
                $"{EntryColumns} FROM chat_group_members m JOIN chat_groups g ON g.group_id = m.group_id AND g.dissolved_at IS NULL " +
                "LEFT JOIN chat_group_entries e ON e.group_id = g.group_id AND e.seq = g.max_seq " +
                "WHERE m.user_id = @me AND m.state = 0 ORDER BY g.group_id", connection))
            {
                command.Parameters.AddWithValue("@me", userId);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    GroupEntry? last = reader.IsDBNull(7) ? null : ReadEntry(reader, 7);
                    long maxSeq = reader.GetInt64(4), from = reader.GetInt64(6);
                    if (from < maxSeq) unreadFrom.Add((list.Count, from));
                    list.Add(new GroupSummary(reader.GetInt64(0), reader.GetString(1), (GroupRole)reader.GetByte(2), reader.GetInt32(3), maxSeq,
                        reader.GetInt64(5), 0, last));
                }
            }
            if (list.Any(g => g.LastEntry?.FileId is not null))
            {
                var lasts = await WithFilesAsync(connection, list.Select(g => g.LastEntry!).ToList(), ct);
                for (int i = 0; i < list.Count; i++)
                    if (list[i].LastEntry is not null) list[i] = list[i] with { LastEntry = lasts[i] };
            }
            if (unreadFrom.Count == 0) return (IReadOnlyList<GroupSummary>)list;

            await using var count = new MySqlCommand { Connection = connection };
            count.CommandText = string.Join(" UNION ALL ", unreadFrom.Select((u, i) =>
                $"(SELECT {i}, COUNT(*) FROM chat_group_entries WHERE group_id = @g{i} AND seq > @f{i} AND type IN ('text', 'file') AND sender_id <> @me AND recalled = 0)"));
            count.Parameters.AddWithValue("@me", userId);
            for (int i = 0; i < unreadFrom.Count; i++)
            {
                count.Parameters.AddWithValue($"@g{i}", list[unreadFrom[i].Index].GroupId);
                count.Parameters.AddWithValue($"@f{i}", unreadFrom[i].From);
            }
            await using var counts = await count.ExecuteReaderAsync(ct);
            while (await counts.ReadAsync(ct))
            {
                int index = unreadFrom[counts.GetInt32(0)].Index;
                list[index] = list[index] with { UnreadCount = counts.GetInt32(1) };
            }
            return (IReadOnlyList<GroupSummary>)list;
        });

    public Task<long?> MarkReadAsync(long groupId, uint userId, long upToSeq, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // The counter by a plain (non-locking) read, not a JOIN in the UPDATE: that would share-lock the group row
            // after taking the member row, the reverse of an append's order, and could deadlock with one. A counter read
            // a moment old only clamps lower.
            await using var counter = new MySqlCommand("SELECT max_seq FROM chat_groups WHERE group_id = @g AND dissolved_at IS NULL", connection);
            counter.Parameters.AddWithValue("@g", groupId);
            if (await counter.ExecuteScalarAsync(ct) is not { } max || max is DBNull) return null;
            // GREATEST: a late mark with a smaller seq changes nothing; the clamp: never past the newest entry.
            await using var command = new MySqlCommand(
                "UPDATE chat_group_members SET read_seq = GREATEST(read_seq, @up) WHERE group_id = @g AND user_id = @me AND state = 0;" +
                "SELECT read_seq FROM chat_group_members WHERE group_id = @g AND user_id = @me AND state = 0", connection);
            command.Parameters.AddWithValue("@g", groupId);
            command.Parameters.AddWithValue("@me", userId);
            command.Parameters.AddWithValue("@up", Math.Clamp(upToSeq, 0, Convert.ToInt64(max, CultureInfo.InvariantCulture)));
            object? value = await command.ExecuteScalarAsync(ct);
            return value is null or DBNull ? (long?)null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        });

    public Task<GroupRecall> RecallAsync(long groupId, long seq, uint actorId, long now, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            var notFound = new GroupRecall(GroupRecallResult.NotFound, []);
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // The group's lock orders the recall with role changes: an admin demoted a moment ago cannot still recall.
            if (await LockGroupAsync(connection, transaction, groupId, ct) is null) return notFound;
            await using var find = new MySqlCommand(
                "SELECT m.role, e.sender_id, e.created_at, e.recalled FROM chat_group_members m " +
                "JOIN chat_group_entries e ON e.group_id = m.group_id AND e.seq = @q AND e.seq >= m.joined_seq AND e.type IN ('text', 'file') " +
                "WHERE m.group_id = @g AND m.user_id = @me AND m.state = 0 FOR UPDATE", connection, transaction);
            find.Parameters.AddWithValue("@g", groupId);
            find.Parameters.AddWithValue("@me", actorId);
            find.Parameters.AddWithValue("@q", seq);
            GroupRole role;
            uint sender;
            long sentAt;
            bool recalled;
            await using (var reader = await find.ExecuteReaderAsync(ct))
            {
                if (!await reader.ReadAsync(ct)) return notFound;
                (role, sender, sentAt, recalled) = ((GroupRole)reader.GetByte(0), reader.GetUInt32(1), reader.GetInt64(2), reader.GetBoolean(3));
            }
            if (recalled) return new GroupRecall(GroupRecallResult.AlreadyRecalled, []);
            var verdict = GroupRules.CanRecall(role, actorId, sender, sentAt, now);
            if (verdict != GroupRecallResult.Recalled) return new GroupRecall(verdict, []);
            // Its words leave the search index with its content, in the same transaction (as a one-to-one recall).
            await ExecuteAsync(connection, transaction,
                "UPDATE chat_group_entries SET recalled = 1, recalled_at = @at, recalled_by = @me, content = '' WHERE group_id = @g AND seq = @q;" +
                "DELETE FROM chat_group_search WHERE message_id = (SELECT message_id FROM chat_group_entries WHERE group_id = @g AND seq = @q)", ct,
                ("@at", now), ("@me", actorId), ("@g", groupId), ("@q", seq));
            var members = await CurrentMembersAsync(connection, transaction, groupId, ct);
            await transaction.CommitAsync(ct);
            return new GroupRecall(GroupRecallResult.Recalled, members);
        });

    /// <summary>Runs MembershipSql and then <paramref name="entriesSql"/> in one command; null when the caller is not a member.</summary>
    private Task<IReadOnlyList<GroupEntry>?> EntriesAsync(long groupId, uint userId, CancellationToken ct, string entriesSql,
        params (string Name, object? Value)[] parameters) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(MembershipSql + entriesSql, connection);
            command.Parameters.AddWithValue("@g", groupId);
            command.Parameters.AddWithValue("@me", userId);
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return (IReadOnlyList<GroupEntry>?)null;
            await reader.NextResultAsync(ct);
            var list = new List<GroupEntry>();
            while (await reader.ReadAsync(ct)) list.Add(ReadEntry(reader));
            await reader.DisposeAsync();
            return (IReadOnlyList<GroupEntry>?)await WithFilesAsync(connection, list, ct);
        });
}
