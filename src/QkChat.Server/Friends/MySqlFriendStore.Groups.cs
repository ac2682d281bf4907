using MySqlConnector;
using QkChat.Core.Friends;
using QkChat.Server.Accounts;
using QkChat.Server.Storage;

namespace QkChat.Server.Friends;

/// <summary>
/// Remarks and friend groups (friend_groups and the friendships.remark / group_id columns, sql/0003_social.sql).
/// Group changes that race a move (delete vs move into it) lock the group row first, so a friend never lands in a
/// group that no longer exists.
/// </summary>
public sealed partial class MySqlFriendStore
{
    public const string DefaultGroupName = "default";

    public Task<bool> SetRemarkAsync(uint userId, uint friendId, string remark, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Found rows (not changed rows) are counted: setting the same remark again still answers OK.
            await using var command = Command(connection, null,
                "UPDATE friendships SET remark = @r WHERE user_id = @me AND friend_id = @f", ("@r", remark), ("@me", userId), ("@f", friendId));
            return await command.ExecuteNonQueryAsync(ct) > 0;
        });

    public Task<GroupResult> CreateGroupAsync(uint userId, string name, int maxGroups, long now, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            if (IsDefaultName(name)) return new GroupResult(GroupOutcome.NameTaken, 0);
            // The user's row serializes their group changes: the count below cannot be raced past the cap.
            await using (var lockUser = Command(connection, tx, "SELECT 1 FROM users WHERE user_id = @me FOR UPDATE", ("@me", userId)))
                await lockUser.ExecuteScalarAsync(ct);
            await using (var count = Command(connection, tx, "SELECT COUNT(*) FROM friend_groups WHERE user_id = @me", ("@me", userId)))
            {
                if (Convert.ToInt32(await count.ExecuteScalarAsync(ct)) >= maxGroups) return new GroupResult(GroupOutcome.TooMany, 0);
            }
            await using var insert = Command(connection, tx,
                "INSERT INTO friend_groups (user_id, group_name, created_at) VALUES (@me, @n, @now)", ("@me", userId), ("@n", name), ("@now", now));
            try
            {
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return new GroupResult(GroupOutcome.NameTaken, 0);
            }
            return new GroupResult(GroupOutcome.Done, (uint)insert.LastInsertedId);
        }, ct);

    public Task<GroupOutcome> RenameGroupAsync(uint userId, uint groupId, string name, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            if (IsDefaultName(name))
                return await OwnsGroupAsync(connection, null, userId, groupId, ct) ? GroupOutcome.NameTaken : GroupOutcome.NotFound;
            await using var update = Command(connection, null,
                "UPDATE friend_groups SET group_name = @n WHERE group_id = @g AND user_id = @me", ("@n", name), ("@g", groupId), ("@me", userId));
            try
            {
                return await update.ExecuteNonQueryAsync(ct) > 0 ? GroupOutcome.Done : GroupOutcome.NotFound;
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return GroupOutcome.NameTaken;
            }
        });

    public Task<bool> DeleteGroupAsync(uint userId, uint groupId, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            if (!await OwnsGroupAsync(connection, tx, userId, groupId, ct, forUpdate: true)) return false;
            await using (var move = Command(connection, tx,
                             "UPDATE friendships SET group_id = 0 WHERE user_id = @me AND group_id = @g", ("@me", userId), ("@g", groupId)))
                await move.ExecuteNonQueryAsync(ct);
            await using var delete = Command(connection, tx, "DELETE FROM friend_groups WHERE group_id = @g", ("@g", groupId));
            await delete.ExecuteNonQueryAsync(ct);
            return true;
        }, ct);

    public Task<MoveOutcome> MoveFriendAsync(uint userId, uint friendId, uint groupId, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            // Shared lock on the group: a concurrent delete waits for this move, then moves the friend back to 0.
            if (groupId != 0 && !await OwnsGroupAsync(connection, tx, userId, groupId, ct, forShare: true)) return MoveOutcome.NoSuchGroup;
            await using var update = Command(connection, tx,
                "UPDATE friendships SET group_id = @g WHERE user_id = @me AND friend_id = @f", ("@g", groupId), ("@me", userId), ("@f", friendId));
            return await update.ExecuteNonQueryAsync(ct) > 0 ? MoveOutcome.Moved : MoveOutcome.NotFriend;
        }, ct);

    public Task<IReadOnlyList<FriendGroup>> ListGroupsAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<FriendGroup>>(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Counts from one range of the friendships primary key; a group nobody is in counts 0.
            var counts = new Dictionary<uint, int>();
            await using (var command = Command(connection, null,
                             "SELECT group_id, COUNT(*) FROM friendships WHERE user_id = @me GROUP BY group_id", ("@me", userId)))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) counts[reader.GetUInt32(0)] = reader.GetInt32(1);
            }
            var groups = new List<FriendGroup> { new(0, DefaultGroupName, counts.GetValueOrDefault(0u)) };
            await using (var command = Command(connection, null,
                             "SELECT group_id, group_name FROM friend_groups WHERE user_id = @me ORDER BY group_id", ("@me", userId)))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    uint id = reader.GetUInt32(0);
                    groups.Add(new FriendGroup(id, reader.GetString(1), counts.GetValueOrDefault(id)));
                }
            }
            return groups;
        });

    private static async Task<bool> OwnsGroupAsync(MySqlConnection connection, MySqlTransaction? tx, uint userId, uint groupId, CancellationToken ct,
        bool forUpdate = false, bool forShare = false)
    {
        string locking = forUpdate ? " FOR UPDATE" : forShare ? " LOCK IN SHARE MODE" : "";
        await using var command = Command(connection, tx, "SELECT 1 FROM friend_groups WHERE group_id = @g AND user_id = @me" + locking,
            ("@g", groupId), ("@me", userId));
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    // The default group's name is taken by group 0, ignoring case like every group name.
    private static bool IsDefaultName(string name) => string.Equals(name, DefaultGroupName, StringComparison.OrdinalIgnoreCase);
}
