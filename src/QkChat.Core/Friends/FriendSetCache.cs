using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace QkChat.Core.Friends;

/// <summary>
/// Friend sets of the users active on this node, so that every send_message and presence change does not ask
/// MariaDB "are these two friends". Filled on first use, dropped when friendships change (the friend service
/// calls <see cref="Invalidate"/>) and when a user leaves the node. With several nodes a change on another node
/// must invalidate here too (a Redis channel, with multi-node routing).
/// </summary>
public sealed class FriendSetCache(IFriendLookup lookup)
{
    private readonly ConcurrentDictionary<uint, FrozenSet<uint>> _sets = new();

    // Bumped by every invalidation: a load that raced one must not store its (possibly stale) answer.
    private long _generation;

    public async ValueTask<FrozenSet<uint>> FriendsOfAsync(uint userId, CancellationToken ct)
    {
        if (_sets.TryGetValue(userId, out var cached)) return cached;
        long generation = Interlocked.Read(ref _generation);
        var loaded = (await lookup.FriendIdsAsync(userId, ct)).ToFrozenSet();
        if (Interlocked.Read(ref _generation) == generation) _sets.TryAdd(userId, loaded);
        return loaded;
    }

    public async ValueTask<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) =>
        (await FriendsOfAsync(userId, ct)).Contains(otherId);

    /// <summary>Two users became friends or stopped being friends.</summary>
    public void Invalidate(uint userId, uint otherId)
    {
        Interlocked.Increment(ref _generation);
        _sets.TryRemove(userId, out _);
        _sets.TryRemove(otherId, out _);
    }

    /// <summary>The user left this node: free the set.</summary>
    public void Forget(uint userId) => _sets.TryRemove(userId, out _);

    public int Count => _sets.Count;
}
