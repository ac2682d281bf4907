using MySqlConnector;
using QkChat.Core.Friends;
using QkChat.Server.Storage;

namespace QkChat.Server.Friends;

/// <summary>
/// Remarks and friend categories (stored as the table friend_groups and the friendships.remark / group_id columns,
/// sql/0003_social.sql). Category changes that race a move (delete vs move into it) lock the category row first, so
/// a friend never lands in a category that no longer exists.
/// </summary>
public sealed partial class MySqlFriendStore
{
    public const string DefaultCategoryName = "default";

    public Task<bool> SetRemarkAsync(uint userId, uint friendId, string remark, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Found rows (not changed rows) are counted: setting the same remark again still answers OK.
            await using var command = Command(connection, null,
                "UPDATE friendships SET remark = @r WHERE user_id = @me AND friend_id = @f", ("@r", remark), ("@me", userId), ("@f", friendId));
            return await command.ExecuteNonQueryAsync(ct) > 0;
        });

    public Task<CategoryResult> CreateCategoryAsync(uint userId, string name, int maxCategories, long now, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            if (IsDefaultName(name)) return new CategoryResult(CategoryOutcome.NameTaken, 0);
            // The user's row serializes their category changes: the count below cannot be raced past the cap.
            await using (var lockUser = Command(connection, tx, "SELECT 1 FROM users WHERE user_id = @me FOR UPDATE", ("@me", userId)))
                await lockUser.ExecuteScalarAsync(ct);
            await using (var count = Command(connection, tx, "SELECT COUNT(*) FROM friend_groups WHERE user_id = @me", ("@me", userId)))
            {
                if (Convert.ToInt32(await count.ExecuteScalarAsync(ct)) >= maxCategories) return new CategoryResult(CategoryOutcome.TooMany, 0);
            }
            await using var insert = Command(connection, tx,
                "INSERT INTO friend_groups (user_id, group_name, created_at) VALUES (@me, @n, @now)", ("@me", userId), ("@n", name), ("@now", now));
            try
            {
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return new CategoryResult(CategoryOutcome.NameTaken, 0);
            }
            return new CategoryResult(CategoryOutcome.Done, (uint)insert.LastInsertedId);
        }, ct);

    public Task<CategoryOutcome> RenameCategoryAsync(uint userId, uint categoryId, string name, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            if (IsDefaultName(name))
                return await OwnsCategoryAsync(connection, null, userId, categoryId, ct) ? CategoryOutcome.NameTaken : CategoryOutcome.NotFound;
            await using var update = Command(connection, null,
                "UPDATE friend_groups SET group_name = @n WHERE group_id = @g AND user_id = @me", ("@n", name), ("@g", categoryId), ("@me", userId));
            try
            {
                return await update.ExecuteNonQueryAsync(ct) > 0 ? CategoryOutcome.Done : CategoryOutcome.NotFound;
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return CategoryOutcome.NameTaken;
            }
        });

    public Task<bool> DeleteCategoryAsync(uint userId, uint categoryId, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            if (!await OwnsCategoryAsync(connection, tx, userId, categoryId, ct, forUpdate: true)) return false;
            await using (var move = Command(connection, tx,
                             "UPDATE friendships SET group_id = 0 WHERE user_id = @me AND group_id = @g", ("@me", userId), ("@g", categoryId)))
                await move.ExecuteNonQueryAsync(ct);
            await using var delete = Command(connection, tx, "DELETE FROM friend_groups WHERE group_id = @g", ("@g", categoryId));
            await delete.ExecuteNonQueryAsync(ct);
            return true;
        }, ct);

    public Task<MoveOutcome> MoveFriendAsync(uint userId, uint friendId, uint categoryId, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            // Shared lock on the category: a concurrent delete waits for this move, then moves the friend back to 0.
            if (categoryId != 0 && !await OwnsCategoryAsync(connection, tx, userId, categoryId, ct, forShare: true)) return MoveOutcome.NoSuchCategory;
            await using var update = Command(connection, tx,
                "UPDATE friendships SET group_id = @g WHERE user_id = @me AND friend_id = @f", ("@g", categoryId), ("@me", userId), ("@f", friendId));
            return await update.ExecuteNonQueryAsync(ct) > 0 ? MoveOutcome.Moved : MoveOutcome.NotFriend;
        }, ct);

    public Task<IReadOnlyList<FriendCategory>> ListCategoriesAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<FriendCategory>>(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Counts from one range of the friendships primary key; a category nobody is in counts 0.
            var counts = new Dictionary<uint, int>();
            await using (var command = Command(connection, null,
                             "SELECT group_id, COUNT(*) FROM friendships WHERE user_id = @me GROUP BY group_id", ("@me", userId)))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) counts[reader.GetUInt32(0)] = reader.GetInt32(1);
            }
            var categories = new List<FriendCategory> { new(0, DefaultCategoryName, counts.GetValueOrDefault(0u)) };
            await using (var command = Command(connection, null,
                             "SELECT group_id, group_name FROM friend_groups WHERE user_id = @me ORDER BY group_id", ("@me", userId)))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    uint id = reader.GetUInt32(0);
                    categories.Add(new FriendCategory(id, reader.GetString(1), counts.GetValueOrDefault(id)));
                }
            }
            return categories;
        });

    private static async Task<bool> OwnsCategoryAsync(MySqlConnection connection, MySqlTransaction? tx, uint userId, uint categoryId, CancellationToken ct,
        bool forUpdate = false, bool forShare = false)
    {
        string locking = forUpdate ? " FOR UPDATE" : forShare ? " LOCK IN SHARE MODE" : "";
        await using var command = Command(connection, tx, "SELECT 1 FROM friend_groups WHERE group_id = @g AND user_id = @me" + locking,
            ("@g", categoryId), ("@me", userId));
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    // The default category's name is taken by category 0, ignoring case like every category name.
    private static bool IsDefaultName(string name) => string.Equals(name, DefaultCategoryName, StringComparison.OrdinalIgnoreCase);
}
