namespace QkChat.Core.Friends;

/// <summary>The friendship questions that presence and messaging ask (the friend store answers them from MariaDB).</summary>
public interface IFriendLookup
{
    Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct);

    Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct);

    /// <summary>The friends of many users at once (a reaped node's users, docs/cluster.md "Node death"): every asked user is
    /// a key. The store answers in a few statements; this default asks one user at a time.</summary>
    async Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>> FriendIdsOfAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct)
    {
        var sets = new Dictionary<uint, IReadOnlyList<uint>>(userIds.Count);
        foreach (uint user in userIds) sets[user] = await FriendIdsAsync(user, ct);
        return sets;
    }
}
