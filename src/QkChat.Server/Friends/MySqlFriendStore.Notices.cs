using System.Text;
using MySqlConnector;
using QkChat.Core.Friends;

namespace QkChat.Server.Friends;

/// <summary>
/// Owed notifications: a request its target has not been told of (target_notified = 0) and an answer its requester
/// has not been told of (requester_notified = 0). Each is locked (FOR UPDATE) while it is pushed and marked in the
/// same transaction, so a live push racing the recipient's login push delivers it once: the second waits for the
/// first's commit and then finds nothing owed. Not retried on deadlock: the push may already have gone out, and a
/// notice left owed is delivered at the next login, which beats delivering it twice now.
/// </summary>
public sealed partial class MySqlFriendStore
{
    private const string OwedRequests =
        "SELECT friend_request_id, from_user_id, to_user_id, message, created_at, status FROM friend_requests " +
        "WHERE status = 0 AND target_notified = 0 AND ignored_by_target = 0";

    private const string OwedResults =
        "SELECT friend_request_id, from_user_id, to_user_id, message, created_at, status FROM friend_requests " +
        "WHERE status IN (1, 2) AND requester_notified = 0";

    public Task<bool> DeliverNoticeAsync(NoticeKind kind, ulong requestId, NoticeDelivery deliver, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            string sql = (kind == NoticeKind.Request ? OwedRequests : OwedResults) + " AND friend_request_id = @id FOR UPDATE";
            var owed = await ReadOwedAsync(connection, tx, sql, kind, [("@id", requestId)], ct);
            return await DeliverAsync(connection, tx, owed, deliver, ct) > 0;
        }, ct, retryDeadlocks: false);

    public Task<int> DeliverOwedNoticesAsync(uint userId, int max, NoticeDelivery deliver, CancellationToken ct) =>
        InTransactionAsync(async (connection, tx) =>
        {
            var owed = await ReadOwedAsync(connection, tx,
                OwedRequests + " AND to_user_id = @u ORDER BY friend_request_id LIMIT @max FOR UPDATE", NoticeKind.Request, [("@u", userId), ("@max", max)], ct);
            owed.AddRange(await ReadOwedAsync(connection, tx,
                OwedResults + " AND from_user_id = @u ORDER BY friend_request_id LIMIT @max FOR UPDATE", NoticeKind.Result, [("@u", userId), ("@max", max)], ct));
            // Oldest first across both kinds, as they happened.
            owed.Sort((a, b) => a.RequestId.CompareTo(b.RequestId));
            if (owed.Count > max) owed.RemoveRange(max, owed.Count - max);
            return await DeliverAsync(connection, tx, owed, deliver, ct);
        }, ct, retryDeadlocks: false);

    /// <summary>Reads owed rows (the recipient and the other side depend on the kind); usernames are filled in later.</summary>
    private static async Task<List<FriendNotice>> ReadOwedAsync(MySqlConnection connection, MySqlTransaction tx, string sql, NoticeKind kind,
        (string, object)[] parameters, CancellationToken ct)
    {
        await using var command = Command(connection, tx, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var owed = new List<FriendNotice>();
        while (await reader.ReadAsync(ct))
        {
            uint from = reader.GetUInt32(1), to = reader.GetUInt32(2);
            owed.Add(kind == NoticeKind.Request
                ? new FriendNotice(kind, reader.GetUInt64(0), to, from, "", reader.GetString(3), reader.GetInt64(4), false)
                : new FriendNotice(kind, reader.GetUInt64(0), from, to, "", "", reader.GetInt64(4), reader.GetByte(5) == Accepted));
        }
        return owed;
    }

    /// <summary>Hands each notice to <paramref name="deliver"/> and marks the delivered ones; returns how many.</summary>
    private static async Task<int> DeliverAsync(MySqlConnection connection, MySqlTransaction tx, List<FriendNotice> owed,
        NoticeDelivery deliver, CancellationToken ct)
    {
        if (owed.Count == 0) return 0;
        var names = await UsernamesAsync(connection, tx, owed.Select(n => n.OtherId).Distinct().ToList(), ct);
        var targetNotified = new List<ulong>();
        var requesterNotified = new List<ulong>();
        foreach (var notice in owed)
        {
            // A user deleted meanwhile has no name: their notices would only confuse; the cascade removes them.
            if (!names.TryGetValue(notice.OtherId, out string? name)) continue;
            if (!deliver(notice with { OtherUsername = name })) continue;
            (notice.Kind == NoticeKind.Request ? targetNotified : requesterNotified).Add(notice.RequestId);
        }
        await MarkAsync(connection, tx, "target_notified", targetNotified, ct);
        await MarkAsync(connection, tx, "requester_notified", requesterNotified, ct);
        return targetNotified.Count + requesterNotified.Count;
    }

    private static async Task<Dictionary<uint, string>> UsernamesAsync(MySqlConnection connection, MySqlTransaction tx, List<uint> ids,
        CancellationToken ct)
    {
        await using var command = Command(connection, tx, "SELECT user_id, username FROM users WHERE user_id IN (" + ParameterList("@u", ids.Count) + ")");
        for (int i = 0; i < ids.Count; i++) command.Parameters.AddWithValue("@u" + i, ids[i]);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var names = new Dictionary<uint, string>(ids.Count);
        while (await reader.ReadAsync(ct)) names[reader.GetUInt32(0)] = reader.GetString(1);
        return names;
    }

    /// <param name="column">One of two constant column names, never input.</param>
    private static async Task MarkAsync(MySqlConnection connection, MySqlTransaction tx, string column, List<ulong> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return;
        await using var command = Command(connection, tx,
            $"UPDATE friend_requests SET {column} = 1 WHERE friend_request_id IN (" + ParameterList("@r", ids.Count) + ")");
        for (int i = 0; i < ids.Count; i++) command.Parameters.AddWithValue("@r" + i, ids[i]);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string ParameterList(string prefix, int count)
    {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++) text.Append(i == 0 ? "" : ", ").Append(prefix).Append(i);
        return text.ToString();
    }
}
