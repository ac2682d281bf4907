using MySqlConnector;
using QkChat.Server.Storage;

namespace QkChat.Server.Friends;

/// <summary>
/// Friend and block sets of many users at once: the reap of a dead node tells the friends of up to 1,000 users per round
/// (docs/cluster.md, "Node death"), two statements per round instead of two per user.
/// </summary>
public sealed partial class MySqlFriendStore
{
    // Ids per statement: 1,000 numbers keep a statement near 11 KB, far below max_allowed_packet.
    private const int IdsPerStatement = 1000;

    public Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>> FriendIdsOfAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct) =>
        PairsAsync(userIds, ids => $"SELECT user_id, friend_id FROM friendships WHERE user_id IN ({ids})", ct);

    // Both directions, as BlockedWithAsync: the primary key (whom they blocked) and ix_user_blocks_blocked (who blocked them).
    public Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>> BlockedWithManyAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct) =>
        PairsAsync(userIds, ids => $"SELECT user_id, blocked_id FROM user_blocks WHERE user_id IN ({ids}) " +
                                   $"UNION SELECT blocked_id, user_id FROM user_blocks WHERE blocked_id IN ({ids})", ct);

    /// <summary>Runs <paramref name="sql"/> (rows: asked user, other user) over the ids, 1,000 per statement; every asked
    /// user is a key of the answer. The ids are numbers, written into the statement as such (no user text reaches it).</summary>
    private Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>> PairsAsync(IReadOnlyCollection<uint> userIds, Func<string, string> sql,
        CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyDictionary<uint, IReadOnlyList<uint>>>(Backend, async () =>
        {
            var sets = new Dictionary<uint, List<uint>>(userIds.Count);
            foreach (uint user in userIds) sets[user] = [];
            if (userIds.Count == 0) return sets.ToDictionary(e => e.Key, e => (IReadOnlyList<uint>)e.Value);
            await using var connection = await db.OpenConnectionAsync(ct);
            foreach (var chunk in userIds.Chunk(IdsPerStatement))
            {
                await using var command = new MySqlCommand(sql(string.Join(',', chunk)), connection);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    if (sets.TryGetValue(reader.GetUInt32(0), out var others)) others.Add(reader.GetUInt32(1));
            }
            return sets.ToDictionary(e => e.Key, e => (IReadOnlyList<uint>)e.Value);
        });
}
