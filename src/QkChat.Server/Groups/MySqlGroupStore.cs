using System.Globalization;
using MySqlConnector;
using QkChat.Core.Groups;
using QkChat.Server.Storage;

namespace QkChat.Server.Groups;

/// <summary>
/// Chat groups in MariaDB (sql/0008_chat_groups.sql). Every action that changes a group locks its chat_groups row
/// first (FOR UPDATE), then reads the roles it needs, asks <see cref="GroupRules"/>, and writes its system entry at
/// the next seq, all in one transaction: actions and appends on one group take turns on that lock, so a check cannot
/// be overtaken by a concurrent change and the seq counter is only ever moved under it. Appends are in
/// MySqlGroupStore.Append.cs, membership actions in MySqlGroupStore.Members.cs, reads in MySqlGroupStore.Queries.cs.
/// </summary>
public sealed partial class MySqlGroupStore(MySqlDataSource db) : IGroupStore
{
    // file_id last (readers of extra columns after these count from its length).
    private const string EntryColumns = "e.group_id, e.seq, e.message_id, e.sender_id, e.type, e.content, e.created_at, e.recalled, e.event, e.user_ids, e.file_id";

    public Task<GroupCreated> CreateAsync(uint ownerId, string name, IReadOnlyList<uint> memberIds, EntryStamp created, EntryStamp membersAdded,
        long now, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            var others = memberIds.Where(id => id != ownerId).Distinct().Order().ToArray();
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using var insert = new MySqlCommand(
                "INSERT INTO chat_groups (name, owner_id, created_at, max_seq, member_count) VALUES (@n, @o, @a, 0, 0)", connection, transaction);
            insert.Parameters.AddWithValue("@n", name);
            insert.Parameters.AddWithValue("@o", ownerId);
            insert.Parameters.AddWithValue("@a", now);
            await insert.ExecuteNonQueryAsync(ct);
            var group = new LockedGroup(insert.LastInsertedId, name, ownerId, 0, 0);

            var entries = new List<GroupEntry>();
            var first = await WriteSystemEntryAsync(connection, transaction, group, ownerId, GroupEntryTypes.Created, [ownerId], "", created, 1, name, ct);
            entries.Add(first);
            await UpsertMembersAsync(connection, transaction, group.GroupId, [ownerId], GroupRole.Owner, first.Seq, created.Timestamp, ct);
            if (others.Length > 0)
            {
                group = group with { MaxSeq = first.Seq };
                var added = await WriteSystemEntryAsync(connection, transaction, group, ownerId, GroupEntryTypes.MemberAdded, others, "", membersAdded,
                    1 + others.Length, name, ct);
                entries.Add(added);
                await UpsertMembersAsync(connection, transaction, group.GroupId, others, GroupRole.Member, added.Seq, membersAdded.Timestamp, ct);
            }
            await transaction.CommitAsync(ct);
            return new GroupCreated(group.GroupId, entries[^1].Seq, entries);
        });

    /// <summary>The group's row, locked until the transaction ends; null when it does not exist or is dissolved.</summary>
    private static async Task<LockedGroup?> LockGroupAsync(MySqlConnection connection, MySqlTransaction transaction, long groupId, CancellationToken ct)
    {
        await using var command = new MySqlCommand(
            "SELECT name, owner_id, max_seq, member_count FROM chat_groups WHERE group_id = @g AND dissolved_at IS NULL FOR UPDATE",
            connection, transaction);
        command.Parameters.AddWithValue("@g", groupId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new LockedGroup(groupId, reader.GetString(0), reader.GetUInt32(1), reader.GetInt64(2), reader.GetInt32(3));
    }

    /// <summary>The roles of those of <paramref name="userIds"/> who are current members (read under the group's lock).</summary>
    private static async Task<Dictionary<uint, GroupRole>> RolesAsync(MySqlConnection connection, MySqlTransaction transaction, long groupId,
        IReadOnlyCollection<uint> userIds, CancellationToken ct)
    {
        var roles = new Dictionary<uint, GroupRole>();
        if (userIds.Count == 0) return roles;
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        command.CommandText = "SELECT user_id, role FROM chat_group_members WHERE group_id = @g AND state = 0 AND user_id IN (" +
            string.Join(',', userIds.Select((id, i) => "@u" + i)) + ") FOR UPDATE";
        command.Parameters.AddWithValue("@g", groupId);
        int n = 0;
        foreach (uint id in userIds) command.Parameters.AddWithValue("@u" + n++, id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) roles[reader.GetUInt32(0)] = (GroupRole)reader.GetByte(1);
        return roles;
    }

    /// <summary>
    /// Writes a system entry at the group's next seq and, in the same command, the group row: its counter, member
    /// count and name. The caller holds the row's lock (or created the row in this transaction).
    /// </summary>
    private static async Task<GroupEntry> WriteSystemEntryAsync(MySqlConnection connection, MySqlTransaction transaction, LockedGroup group,
        uint actorId, string evt, IReadOnlyList<uint> userIds, string content, EntryStamp stamp, int memberCount, string name, CancellationToken ct)
    {
        long seq = group.MaxSeq + 1;
        string ids = string.Join(',', userIds.Select(id => id.ToString(CultureInfo.InvariantCulture)));
        await using var command = new MySqlCommand(
            "INSERT INTO chat_group_entries (group_id, seq, message_id, sender_id, type, content, event, user_ids, created_at) " +
            "VALUES (@g, @q, @i, @s, 'system', @b, @e, @u, @a);" +
            "UPDATE chat_groups SET max_seq = @q, member_count = @c, name = @n WHERE group_id = @g", connection, transaction);
        command.Parameters.AddWithValue("@g", group.GroupId);
        command.Parameters.AddWithValue("@q", seq);
        command.Parameters.AddWithValue("@i", stamp.MessageId);
        command.Parameters.AddWithValue("@s", actorId);
        command.Parameters.AddWithValue("@b", content);
        command.Parameters.AddWithValue("@e", evt);
        command.Parameters.AddWithValue("@u", ids);
        command.Parameters.AddWithValue("@a", stamp.Timestamp);
        command.Parameters.AddWithValue("@c", memberCount);
        command.Parameters.AddWithValue("@n", name);
        await command.ExecuteNonQueryAsync(ct);
        return new GroupEntry(group.GroupId, seq, stamp.MessageId, actorId, GroupEntryTypes.System, content, stamp.Timestamp, false, evt, [.. userIds]);
    }

    /// <summary>
    /// Makes users current members from <paramref name="joinedSeq"/> on: a new row, or the row of an earlier membership
    /// given back with the new entry point (read_seq starts there, so nothing before it counts as unread).
    /// </summary>
    private static async Task UpsertMembersAsync(MySqlConnection connection, MySqlTransaction transaction, long groupId, IReadOnlyList<uint> userIds,
        GroupRole role, long joinedSeq, long joinedAt, CancellationToken ct)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        command.CommandText = "INSERT INTO chat_group_members (group_id, user_id, role, state, joined_seq, read_seq, joined_at) VALUES " +
            string.Join(',', userIds.Select((_, i) => $"(@g, @u{i}, @r, 0, @q, @q, @a)")) +
            " ON DUPLICATE KEY UPDATE role = VALUES(role), state = 0, joined_seq = VALUES(joined_seq), read_seq = VALUES(read_seq), " +
            "joined_at = VALUES(joined_at), left_seq = NULL, left_at = NULL";
        command.Parameters.AddWithValue("@g", groupId);
        command.Parameters.AddWithValue("@r", (byte)role);
        command.Parameters.AddWithValue("@q", joinedSeq);
        command.Parameters.AddWithValue("@a", joinedAt);
        for (int i = 0; i < userIds.Count; i++) command.Parameters.AddWithValue($"@u{i}", userIds[i]);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task ExecuteAsync(MySqlConnection connection, MySqlTransaction transaction, string sql, CancellationToken ct,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = new MySqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static GroupEntry ReadEntry(MySqlDataReader r, int o = 0)
    {
        string? ids = r.IsDBNull(o + 9) ? null : r.GetString(o + 9);
        return new GroupEntry(r.GetInt64(o), r.GetInt64(o + 1), r.GetInt64(o + 2), r.GetUInt32(o + 3), r.GetString(o + 4), r.GetString(o + 5),
            r.GetInt64(o + 6), r.GetBoolean(o + 7), r.IsDBNull(o + 8) ? null : r.GetString(o + 8),
            string.IsNullOrEmpty(ids) ? [] : [.. ids.Split(',').Select(s => uint.Parse(s, CultureInfo.InvariantCulture))],
            r.IsDBNull(o + 10) ? null : r.GetInt64(o + 10));
    }

    private static Task<List<GroupEntry>> WithFilesAsync(MySqlConnection connection, List<GroupEntry> page, CancellationToken ct) =>
        QkChat.Server.Files.FileRows.WithFilesAsync(connection, page, static e => e.FileId, static (e, file) => e with { File = file }, ct);

    /// <summary>A group row as read under its lock.</summary>
    private sealed record LockedGroup(long GroupId, string Name, uint OwnerId, long MaxSeq, int MemberCount);
}
