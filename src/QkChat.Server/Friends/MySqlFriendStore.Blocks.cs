using MySqlConnector;
using QkChat.Core.Friends;
using QkChat.Server.Storage;

namespace QkChat.Server.Friends;

/// <summary>Blocks (user_blocks, sql/0003_social.sql) and ignore_friend_request.</summary>
public sealed partial class MySqlFriendStore
{
    private const byte Cancelled = 3;

    public Task<IReadOnlyList<uint>> BlockedWithAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<uint>>(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Two index ranges: the primary key (whom I blocked) and ix_user_blocks_blocked (who blocked me).
            await using var command = Command(connection, null,
                "SELECT blocked_id FROM user_blocks WHERE user_id = @u UNION SELECT user_id FROM user_blocks WHERE blocked_id = @u", ("@u", userId));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var ids = new List<uint>();
            while (await reader.ReadAsync(ct)) ids.Add(reader.GetUInt32(0));
            return ids;
        });

    public Task<BlockOutcome> BlockAsync(uint userId, uint blockedId, long now, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            // The same lock order as friend requests: a request between the two cannot slip in between the steps.
            if (!await LockPairAsync(connection, tx, userId, blockedId, ct)) return BlockOutcome.NotFound;
            await using (var insert = Command(connection, tx,
                             "INSERT IGNORE INTO user_blocks (user_id, blocked_id, created_at) VALUES (@me, @b, @now)",
                             ("@me", userId), ("@b", blockedId), ("@now", now)))
            {
                if (await insert.ExecuteNonQueryAsync(ct) == 0) return BlockOutcome.AlreadyBlocked;
            }
            // Their pending request leaves my list and is never pushed (ignored stays ignored after an unblock); mine
            // to them is withdrawn, so they cannot accept it into a friendship I no longer want.
            await using (var ignore = Command(connection, tx,
                             "UPDATE friend_requests SET ignored_by_target = 1 WHERE pending_pair = @theirs",
                             ("@theirs", PairKey(blockedId, userId))))
            {
                await ignore.ExecuteNonQueryAsync(ct);
            }
            await using var cancel = Command(connection, tx,
                "UPDATE friend_requests SET status = @cancelled, responded_at = @now WHERE pending_pair = @mine",
                ("@cancelled", Cancelled), ("@now", now), ("@mine", PairKey(userId, blockedId)));
            await cancel.ExecuteNonQueryAsync(ct);
            return BlockOutcome.Blocked;
        }, ct);

    public Task<bool> UnblockAsync(uint userId, uint blockedId, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command(connection, null, "DELETE FROM user_blocks WHERE user_id = @me AND blocked_id = @b",
                ("@me", userId), ("@b", blockedId));
            return await command.ExecuteNonQueryAsync(ct) > 0;
        });

    public Task<IReadOnlyList<UserCard>> ListBlockedAsync(uint userId, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<UserCard>>(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command(connection, null,
                "SELECT b.blocked_id, u.username FROM user_blocks b JOIN users u ON u.user_id = b.blocked_id WHERE b.user_id = @me " +
                "ORDER BY b.created_at DESC, b.blocked_id LIMIT @n", ("@me", userId), ("@n", limit));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var users = new List<UserCard>();
            while (await reader.ReadAsync(ct)) users.Add(new UserCard(reader.GetUInt32(0), reader.GetString(1)));
            return users;
        });

    public Task<IgnoreResult> IgnoreRequestAsync(uint userId, ulong requestId, CancellationToken ct) =>
        BackendErrors.Guard(Backend, async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Keyed by the target: someone else's request, or my own outgoing one, reads like one that does not exist.
            await using (var update = Command(connection, null,
                             "UPDATE friend_requests SET ignored_by_target = 1 WHERE friend_request_id = @id AND to_user_id = @me AND status = 0",
                             ("@id", requestId), ("@me", userId)))
            {
                // Affected rows count matches (useAffectedRows is off by default in MySqlConnector), so a repeat is Ignored too.
                if (await update.ExecuteNonQueryAsync(ct) > 0) return new IgnoreResult(IgnoreOutcome.Ignored, false);
            }
            await using var read = Command(connection, null,
                "SELECT status FROM friend_requests WHERE friend_request_id = @id AND to_user_id = @me", ("@id", requestId), ("@me", userId));
            return await read.ExecuteScalarAsync(ct) switch
            {
                { } status when Convert.ToByte(status) == Accepted => new IgnoreResult(IgnoreOutcome.AlreadyAnswered, true),
                { } status when Convert.ToByte(status) == Rejected => new IgnoreResult(IgnoreOutcome.AlreadyAnswered, false),
                _ => new IgnoreResult(IgnoreOutcome.NotFound, false),
            };
        });
}
