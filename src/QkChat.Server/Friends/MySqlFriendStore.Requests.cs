using MySqlConnector;
using QkChat.Core.Friends;

namespace QkChat.Server.Friends;

/// <summary>
/// Sending and answering requests. Both lock the two users' rows (ascending id, so two transactions on the same
/// pair always queue instead of deadlocking) before reading anything: two users who send each other a request at
/// the same instant are serialized, and the second sees the first's pending request and turns it into a friendship.
/// The unique pending_pair key stays the last line of defence.
/// </summary>
public sealed partial class MySqlFriendStore
{
    private const byte Pending = 0, Accepted = 1, Rejected = 2;

    public Task<SendResult> SendRequestAsync(uint fromUserId, uint toUserId, string message, long now, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            if (!await LockPairAsync(connection, tx, fromUserId, toUserId, ct)) return new SendResult(SendOutcome.TargetNotFound, 0, 0);
            await using (var friends = Command(connection, tx, "SELECT 1 FROM friendships WHERE user_id = @a AND friend_id = @b",
                             ("@a", fromUserId), ("@b", toUserId)))
            {
                if (await friends.ExecuteScalarAsync(ct) is not null) return new SendResult(SendOutcome.AlreadyFriends, 0, 0);
            }

            ulong? reverseId = null;
            await using (var pending = Command(connection, tx,
                             "SELECT friend_request_id, from_user_id FROM friend_requests WHERE pending_pair IN (@mine, @theirs)",
                             ("@mine", PairKey(fromUserId, toUserId)), ("@theirs", PairKey(toUserId, fromUserId))))
            await using (var reader = await pending.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    if (reader.GetUInt32(1) == fromUserId) return new SendResult(SendOutcome.AlreadyPending, 0, 0);
                    reverseId = reader.GetUInt64(0);
                }
            }

            if (reverseId is { } earlier)
            {
                // Even if the sender had ignored it: asking now is consent.
                await AcceptAsync(connection, tx, earlier, toUserId, fromUserId, now, ct);
                return new SendResult(SendOutcome.BecameFriends, earlier, now);
            }

            await using var insert = Command(connection, tx,
                "INSERT INTO friend_requests (from_user_id, to_user_id, message, created_at) VALUES (@f, @t, @m, @now)",
                ("@f", fromUserId), ("@t", toUserId), ("@m", message), ("@now", now));
            try
            {
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return new SendResult(SendOutcome.AlreadyPending, 0, 0);
            }
            return new SendResult(SendOutcome.Created, (ulong)insert.LastInsertedId, now);
        }, ct);

    public Task<RespondResult> RespondAsync(uint responderId, ulong requestId, bool accept, long now, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            // Keyed by the responder too: someone else's request reads exactly like one that does not exist.
            uint requester;
            await using (var find = Command(connection, tx,
                             "SELECT from_user_id FROM friend_requests WHERE friend_request_id = @id AND to_user_id = @me",
                             ("@id", requestId), ("@me", responderId)))
            {
                if (await find.ExecuteScalarAsync(ct) is not { } from) return new RespondResult(RespondOutcome.NotFound, 0, false);
                requester = Convert.ToUInt32(from);
            }
            if (!await LockPairAsync(connection, tx, responderId, requester, ct)) return new RespondResult(RespondOutcome.NotFound, 0, false);

            byte status;
            await using (var read = Command(connection, tx, "SELECT status FROM friend_requests WHERE friend_request_id = @id FOR UPDATE",
                             ("@id", requestId)))
            {
                status = Convert.ToByte(await read.ExecuteScalarAsync(ct));
            }
            switch (status)
            {
                case Accepted: return new RespondResult(RespondOutcome.AlreadyAnswered, requester, true);
                case Rejected: return new RespondResult(RespondOutcome.AlreadyAnswered, requester, false);
                case not Pending: return new RespondResult(RespondOutcome.NotFound, 0, false);
            }

            if (accept)
            {
                await AcceptAsync(connection, tx, requestId, requester, responderId, now, ct);
                return new RespondResult(RespondOutcome.Accepted, requester, true);
            }
            await using var reject = Command(connection, tx,
                "UPDATE friend_requests SET status = 2, responded_at = @now WHERE friend_request_id = @id", ("@id", requestId), ("@now", now));
            await reject.ExecuteNonQueryAsync(ct);
            return new RespondResult(RespondOutcome.Rejected, requester, false);
        }, ct);

    /// <summary>Marks the request accepted and stores both friendship rows (IGNORE: a row already there is no error).</summary>
    private static async Task AcceptAsync(MySqlConnection connection, MySqlTransaction tx, ulong requestId, uint requester, uint target,
        long now, CancellationToken ct)
    {
        await using var update = Command(connection, tx,
            "UPDATE friend_requests SET status = 1, responded_at = @now WHERE friend_request_id = @id", ("@id", requestId), ("@now", now));
        await update.ExecuteNonQueryAsync(ct);
        await using var insert = Command(connection, tx,
            "INSERT IGNORE INTO friendships (user_id, friend_id, created_at) VALUES (@a, @b, @now), (@b, @a, @now)",
            ("@a", requester), ("@b", target), ("@now", now));
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Locks both users' rows in id order; false when <paramref name="other"/> does not exist.</summary>
    private static async Task<bool> LockPairAsync(MySqlConnection connection, MySqlTransaction tx, uint self, uint other, CancellationToken ct)
    {
        await using var command = Command(connection, tx,
            "SELECT user_id FROM users WHERE user_id IN (@a, @b) ORDER BY user_id FOR UPDATE", ("@a", self), ("@b", other));
        await using var reader = await command.ExecuteReaderAsync(ct);
        bool found = false;
        while (await reader.ReadAsync(ct)) found |= reader.GetUInt32(0) == other;
        return found;
    }

    // Must match the generated column pending_pair: CONCAT(from_user_id, ':', to_user_id).
    private static string PairKey(uint from, uint to) => $"{from}:{to}";
}
