using MySqlConnector;
using QkChat.Core.Groups;
using QkChat.Server.Storage;

namespace QkChat.Server.Groups;

/// <summary>Membership and group actions: each one transaction under the group row's lock (see MySqlGroupStore.cs).</summary>
public sealed partial class MySqlGroupStore
{
    public Task<MembersAdded> AddMembersAsync(long groupId, uint actorId, IReadOnlyList<uint> userIds, int maxMembers, EntryStamp stamp,
        CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var group = await LockGroupAsync(connection, transaction, groupId, ct);
            if (group is null) return new MembersAdded(GroupChangeResult.NotFound, null, [], []);
            var wanted = userIds.Distinct().ToArray();
            var roles = await RolesAsync(connection, transaction, groupId, [actorId, .. wanted], ct);
            if (!roles.TryGetValue(actorId, out var actor)) return new MembersAdded(GroupChangeResult.NotFound, null, [], []);
            if (!GroupRules.CanAddMembers(actor)) return new MembersAdded(GroupChangeResult.Forbidden, null, [], []);
            var already = wanted.Where(roles.ContainsKey).ToArray();
            var added = wanted.Where(id => !roles.ContainsKey(id)).Order().ToArray();
            if (added.Length == 0) return new MembersAdded(GroupChangeResult.Unchanged, null, [], already);
            if (group.MemberCount + added.Length > maxMembers) return new MembersAdded(GroupChangeResult.OverCap, null, [], already);
            var entry = await WriteSystemEntryAsync(connection, transaction, group, actorId, GroupEntryTypes.MemberAdded, added, "", stamp,
                group.MemberCount + added.Length, group.Name, ct);
            await UpsertMembersAsync(connection, transaction, groupId, added, GroupRole.Member, entry.Seq, stamp.Timestamp, ct);
            await transaction.CommitAsync(ct);
            return new MembersAdded(GroupChangeResult.Done, entry, added, already);
        });

    public Task<GroupChange> RemoveMemberAsync(long groupId, uint actorId, uint userId, EntryStamp stamp, CancellationToken ct) =>
        ChangeAsync(groupId, actorId, userId, ct, async (c, t, group, actor, target) =>
        {
            if (actorId == userId || !GroupRules.CanRemove(actor, target)) return GroupChange.Forbidden;
            var entry = await WriteSystemEntryAsync(c, t, group, actorId, GroupEntryTypes.MemberRemoved, [userId], "", stamp,
                group.MemberCount - 1, group.Name, ct);
            await MarkGoneAsync(c, t, groupId, userId, state: 2, entry, ct);
            return new GroupChange(GroupChangeResult.Done, entry);
        });

    public Task<GroupChange> LeaveAsync(long groupId, uint userId, EntryStamp stamp, CancellationToken ct) =>
        ChangeAsync(groupId, userId, userId, ct, async (c, t, group, role, _) =>
        {
            if (!GroupRules.CanLeave(role, group.MemberCount)) return GroupChange.Forbidden;
            if (role == GroupRole.Owner)
            {
                // The owner was the last member: the group goes with them.
                await ExecuteAsync(c, t, "UPDATE chat_groups SET dissolved_at = @at, member_count = 0 WHERE group_id = @g", ct,
                    ("@at", stamp.Timestamp), ("@g", groupId));
                await ExecuteAsync(c, t, "UPDATE chat_group_members SET state = 1, left_at = @at WHERE group_id = @g AND user_id = @u", ct,
                    ("@at", stamp.Timestamp), ("@g", groupId), ("@u", userId));
                return new GroupChange(GroupChangeResult.Dissolved, null);
            }
            var entry = await WriteSystemEntryAsync(c, t, group, userId, GroupEntryTypes.MemberLeft, [userId], "", stamp,
                group.MemberCount - 1, group.Name, ct);
            await MarkGoneAsync(c, t, groupId, userId, state: 1, entry, ct);
            return new GroupChange(GroupChangeResult.Done, entry);
        });

    public Task<GroupChange> SetRoleAsync(long groupId, uint actorId, uint userId, GroupRole role, EntryStamp stamp, CancellationToken ct) =>
        ChangeAsync(groupId, actorId, userId, ct, async (c, t, group, actor, target) =>
        {
            if (!GroupRules.CanSetRole(actor, target, role)) return GroupChange.Forbidden;
            if (target == role) return GroupChange.Unchanged;
            var entry = await WriteSystemEntryAsync(c, t, group, actorId, GroupEntryTypes.RoleChanged, [userId], RoleName(role), stamp,
                group.MemberCount, group.Name, ct);
            await ExecuteAsync(c, t, "UPDATE chat_group_members SET role = @r WHERE group_id = @g AND user_id = @u", ct,
                ("@r", (byte)role), ("@g", groupId), ("@u", userId));
            return new GroupChange(GroupChangeResult.Done, entry);
        });

    public Task<GroupChange> TransferOwnerAsync(long groupId, uint actorId, uint newOwnerId, EntryStamp stamp, CancellationToken ct) =>
        ChangeAsync(groupId, actorId, newOwnerId, ct, async (c, t, group, actor, _) =>
        {
            if (!GroupRules.CanTransfer(actor)) return GroupChange.Forbidden;
            if (actorId == newOwnerId) return GroupChange.Unchanged;
            var entry = await WriteSystemEntryAsync(c, t, group, actorId, GroupEntryTypes.OwnerTransferred, [newOwnerId], "", stamp,
                group.MemberCount, group.Name, ct);
            await ExecuteAsync(c, t,
                "UPDATE chat_group_members SET role = IF(user_id = @new, @owner, @admin) WHERE group_id = @g AND user_id IN (@old, @new);" +
                "UPDATE chat_groups SET owner_id = @new WHERE group_id = @g", ct,
                ("@new", newOwnerId), ("@old", actorId), ("@g", groupId), ("@owner", (byte)GroupRole.Owner), ("@admin", (byte)GroupRole.Admin));
            return new GroupChange(GroupChangeResult.Done, entry);
        });

    public Task<GroupChange> RenameAsync(long groupId, uint actorId, string name, EntryStamp stamp, CancellationToken ct) =>
        ChangeAsync(groupId, actorId, actorId, ct, async (c, t, group, actor, _) =>
        {
            if (!GroupRules.CanRename(actor)) return GroupChange.Forbidden;
            if (string.Equals(group.Name, name, StringComparison.Ordinal)) return GroupChange.Unchanged;
            // WriteSystemEntryAsync writes the group row's name with its counter.
            var entry = await WriteSystemEntryAsync(c, t, group, actorId, GroupEntryTypes.Renamed, [], name, stamp, group.MemberCount, name, ct);
            return new GroupChange(GroupChangeResult.Done, entry);
        });

    public Task<GroupDissolved> DissolveAsync(long groupId, uint actorId, long now, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var group = await LockGroupAsync(connection, transaction, groupId, ct);
            var roles = group is null ? [] : await RolesAsync(connection, transaction, groupId, [actorId], ct);
            if (!roles.TryGetValue(actorId, out var actor)) return new GroupDissolved(GroupChangeResult.NotFound, []);
            if (!GroupRules.CanDissolve(actor)) return new GroupDissolved(GroupChangeResult.Forbidden, []);
            var members = await CurrentMembersAsync(connection, transaction, groupId, ct);
            await ExecuteAsync(connection, transaction, "UPDATE chat_groups SET dissolved_at = @at WHERE group_id = @g", ct, ("@at", now), ("@g", groupId));
            await transaction.CommitAsync(ct);
            return new GroupDissolved(GroupChangeResult.Done, members);
        });

    /// <summary>
    /// The frame of every action on one member by another: lock the group, read both roles (NotFound unless both are
    /// current members), then <paramref name="change"/> decides and writes; committed only when it returns Done or Dissolved.
    /// </summary>
    private Task<GroupChange> ChangeAsync(long groupId, uint actorId, uint targetId, CancellationToken ct,
        Func<MySqlConnection, MySqlTransaction, LockedGroup, GroupRole, GroupRole, Task<GroupChange>> change) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var group = await LockGroupAsync(connection, transaction, groupId, ct);
            if (group is null) return GroupChange.NotFound;
            var roles = await RolesAsync(connection, transaction, groupId, actorId == targetId ? [actorId] : [actorId, targetId], ct);
            if (!roles.TryGetValue(actorId, out var actor) || !roles.TryGetValue(targetId, out var target)) return GroupChange.NotFound;
            var result = await change(connection, transaction, group, actor, target);
            if (result.Result is GroupChangeResult.Done or GroupChangeResult.Dissolved) await transaction.CommitAsync(ct);
            return result;
        });

    private static Task MarkGoneAsync(MySqlConnection c, MySqlTransaction t, long groupId, uint userId, byte state, GroupEntry entry, CancellationToken ct) =>
        ExecuteAsync(c, t, "UPDATE chat_group_members SET state = @s, left_seq = @q, left_at = @at WHERE group_id = @g AND user_id = @u", ct,
            ("@s", state), ("@q", entry.Seq), ("@at", entry.Timestamp), ("@g", groupId), ("@u", userId));

    private static async Task<IReadOnlyList<uint>> CurrentMembersAsync(MySqlConnection connection, MySqlTransaction? transaction, long groupId,
        CancellationToken ct)
    {
        await using var command = new MySqlCommand(
            "SELECT user_id FROM chat_group_members WHERE group_id = @g AND state = 0 ORDER BY user_id", connection, transaction);
        command.Parameters.AddWithValue("@g", groupId);
        var list = new List<uint>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(reader.GetUInt32(0));
        return list;
    }

    private static string RoleName(GroupRole role) => role switch
    {
        GroupRole.Owner => "owner",
        GroupRole.Admin => "admin",
        _ => "member",
    };
}
