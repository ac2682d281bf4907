using QkChat.Server.Storage;
using System.Data;
using MySqlConnector;
using QkChat.Core.Friends;

namespace QkChat.Server.Friends;

/// <summary>
/// Friend requests and friendships in MariaDB (sql/0001_init.sql). Every value is a parameter; the only SQL
/// assembled in code is a choice between constant fragments. Reads here; changes and notices in the other parts.
/// </summary>
public sealed partial class MySqlFriendStore(MySqlDataSource db) : IFriendStore
{
    private const string Backend = "MariaDB";

    // A deadlock rolls the whole transaction back, so running it again is safe; lock order (users by id) makes
    // them rare, and three tries bound the loop.
    private const int DeadlockAttempts = 3;

    public Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command(connection, null, "SELECT 1 FROM friendships WHERE user_id = @a AND friend_id = @b",
                ("@a", userId), ("@b", otherId));
            return await command.ExecuteScalarAsync(ct) is not null;
        });

    public Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<uint>>(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command(connection, null, "SELECT friend_id FROM friendships WHERE user_id = @u", ("@u", userId));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var ids = new List<uint>();
            while (await reader.ReadAsync(ct)) ids.Add(reader.GetUInt32(0));
            return ids;
        });

    public Task<IReadOnlyList<UserCard>> SearchAsync(UserSearch search, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<UserCard>>(Backend, async () =>
        {
            // One branch per kind of match, each served by an index (primary key, uk_users_email, uk_users_username
            // as a range); a user matched twice keeps its best rank: exact id, then exact e-mail, then prefix.
            var branches = new List<string>(3);
            if (search.ExactId is not null) branches.Add("SELECT user_id, username, 0 AS r FROM users WHERE user_id = @id");
            if (search.Email is not null) branches.Add("SELECT user_id, username, 1 AS r FROM users WHERE email = @email");
            if (search.UsernamePrefix is not null)
                branches.Add("(SELECT user_id, username, 2 AS r FROM users WHERE username LIKE @prefix ESCAPE '!' ORDER BY username LIMIT @limit)");
            if (branches.Count == 0) return [];
            string sql = "SELECT user_id, username, MIN(r) AS rank FROM (" + string.Join(" UNION ALL ", branches) +
                         ") m GROUP BY user_id, username ORDER BY rank, username LIMIT @limit";
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command(connection, null, sql, ("@limit", limit));
            if (search.ExactId is { } id) command.Parameters.AddWithValue("@id", id);
            if (search.Email is { } email) command.Parameters.AddWithValue("@email", email);
            if (search.UsernamePrefix is { } prefix) command.Parameters.AddWithValue("@prefix", FriendRules.LikePrefix(prefix));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var users = new List<UserCard>();
            while (await reader.ReadAsync(ct)) users.Add(new UserCard(reader.GetUInt32(0), reader.GetString(1)));
            return users;
        });

    public Task<UserCard?> FindAsync(FriendTarget target, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            (string where, object value) = target.Kind switch
            {
                TargetKind.UserId => ("user_id = @v", (object)target.UserId),
                TargetKind.Email => ("email = @v", target.Text!),
                _ => ("username = @v", target.Text!),
            };
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command(connection, null, $"SELECT user_id, username FROM users WHERE {where} LIMIT 1", ("@v", value));
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? new UserCard(reader.GetUInt32(0), reader.GetString(1)) : null;
        });

    public Task<FriendRequestLists> ListRequestsAsync(uint userId, int perDirection, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // An ignored request leaves the target's list only; the requester still sees it pending (protocol.md §8).
            var (incoming, incomingMore) = await ReadRequestsAsync(connection,
                "SELECT r.friend_request_id, r.from_user_id, u.username, r.message, r.created_at FROM friend_requests r " +
                "JOIN users u ON u.user_id = r.from_user_id WHERE r.to_user_id = @me AND r.status = 0 AND r.ignored_by_target = 0 " +
                "ORDER BY r.friend_request_id DESC LIMIT @n", userId, perDirection, ct);
            var (outgoing, outgoingMore) = await ReadRequestsAsync(connection,
                "SELECT r.friend_request_id, r.to_user_id, u.username, r.message, r.created_at FROM friend_requests r " +
                "JOIN users u ON u.user_id = r.to_user_id WHERE r.from_user_id = @me AND r.status = 0 " +
                "ORDER BY r.friend_request_id DESC LIMIT @n", userId, perDirection, ct);
            return new FriendRequestLists(incoming, incomingMore, outgoing, outgoingMore);
        });

    private static async Task<(List<FriendRequestEntry>, bool More)> ReadRequestsAsync(MySqlConnection connection, string sql,
        uint userId, int limit, CancellationToken ct)
    {
        // One row more than asked says whether there are more.
        await using var command = Command(connection, null, sql, ("@me", userId), ("@n", limit + 1));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var entries = new List<FriendRequestEntry>();
        while (await reader.ReadAsync(ct))
        {
            entries.Add(new FriendRequestEntry(reader.GetUInt64(0), reader.GetUInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetInt64(4)));
        }
        bool more = entries.Count > limit;
        if (more) entries.RemoveAt(entries.Count - 1);
        return (entries, more);
    }

    public Task<(IReadOnlyList<FriendEntry> Friends, bool HasMore)> ListFriendsAsync(uint userId, uint afterUserId, int limit, CancellationToken ct) =>
        BackendErrors.Guard<(IReadOnlyList<FriendEntry>, bool)>(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // A primary-key range of friendships, in id order: stable pages for after_user_id.
            await using var command = Command(connection, null,
                "SELECT f.friend_id, u.username, u.last_seen_at, f.group_id, f.remark FROM friendships f JOIN users u ON u.user_id = f.friend_id " +
                "WHERE f.user_id = @me AND f.friend_id > @after ORDER BY f.friend_id LIMIT @n",
                ("@me", userId), ("@after", afterUserId), ("@n", limit + 1));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var friends = new List<FriendEntry>();
            while (await reader.ReadAsync(ct))
                friends.Add(new FriendEntry(reader.GetUInt32(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2),
                    reader.GetUInt32(3), reader.GetString(4)));
            bool more = friends.Count > limit;
            if (more) friends.RemoveAt(friends.Count - 1);
            return (friends, more);
        });

    public Task<bool> DeleteFriendshipAsync(uint userId, uint friendId, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // One statement removes both directions atomically: never half a friendship.
            await using var command = Command(connection, null,
                "DELETE FROM friendships WHERE (user_id = @a AND friend_id = @b) OR (user_id = @b AND friend_id = @a)",
                ("@a", userId), ("@b", friendId));
            return await command.ExecuteNonQueryAsync(ct) > 0;
        });

    private static MySqlCommand Command(MySqlConnection connection, MySqlTransaction? transaction, string sql,
        params (string Name, object Value)[] parameters)
    {
        var command = new MySqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a READ COMMITTED transaction (each statement sees the latest commits once its
    /// locks are held, and no gap locks block unrelated inserts), again after a deadlock.
    /// </summary>
    private Task<T> InTransactionAsync<T>(Func<MySqlConnection, MySqlTransaction, Task<T>> work, CancellationToken ct, bool retryDeadlocks = true) =>
        BackendErrors.Guard(Backend, async () =>
        {
            for (int attempt = 1; ; attempt++)
            {
                await using var connection = await db.OpenConnectionAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                try
                {
                    T result = await work(connection, transaction);
                    await transaction.CommitAsync(ct);
                    return result;
                }
                catch (MySqlException e) when (retryDeadlocks && e.ErrorCode == MySqlErrorCode.LockDeadlock && attempt < DeadlockAttempts)
                {
                    // Rolled back by the server already; disposing the transaction is enough.
                }
            }
        });
}
