using System.Collections.Concurrent;
using System.Collections.Frozen;
using QkChat.Core.Routing;

namespace QkChat.Core.Friends;

/// <summary>
/// A set of user ids per user active on this node (their friends, or who is in a block with them), so that every
/// send_message and presence change does not ask MariaDB. Filled on first use; <see cref="Invalidate"/> drops both
/// users' entries after the database holds a change, so the next use loads the new truth; <see cref="Forget"/>
/// frees a user who left the node. Most sets are empty and share one instance. With several nodes an invalidation
/// here is told to every other node through <see cref="Notices"/>, which drop their copies (<see cref="Drop"/>).
/// </summary>
/// <param name="loadMany">Many users' sets in one go (<see cref="SetsOfAsync"/>).</param>
public abstract class UserSetCache(Func<uint, CancellationToken, Task<IReadOnlyList<uint>>> load,
    Func<IReadOnlyCollection<uint>, CancellationToken, Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>>> loadMany, CachedRelation relation)
{
    private readonly ConcurrentDictionary<uint, FrozenSet<uint>> _sets = new();

    // Bumped by every invalidation: a load that raced one must not store its (possibly stale) answer.
    private long _generation;

    protected async ValueTask<FrozenSet<uint>> SetOfAsync(uint userId, CancellationToken ct)
    {
        if (_sets.TryGetValue(userId, out var cached)) return cached;
        long generation = Interlocked.Read(ref _generation);
        var ids = await load(userId, ct);
        var loaded = ids.Count == 0 ? FrozenSet<uint>.Empty : ids.ToFrozenSet();
        if (Interlocked.Read(ref _generation) == generation) _sets.TryAdd(userId, loaded);
        return loaded;
    }

    /// <summary>
    /// Many users' sets (every asked user is a key): the cached ones as they are, the others in one batch load, not kept
    /// (the reap of a dead node asks about users who are not on this node).
    /// </summary>
    public async Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>> SetsOfAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct)
    {
        var sets = new Dictionary<uint, IReadOnlyList<uint>>(userIds.Count);
        var missing = new List<uint>();
        foreach (uint user in userIds)
        {
            if (_sets.TryGetValue(user, out var cached)) sets[user] = cached.Items;
            else missing.Add(user);
        }
        if (missing.Count == 0) return sets;
        var loaded = await loadMany(missing, ct);
        foreach (uint user in missing) sets[user] = loaded.TryGetValue(user, out var ids) ? ids : [];
        return sets;
    }

    /// <summary>Synchronous when cached: send_message's reactor path depends on it.</summary>
    protected ValueTask<bool> ContainsAsync(uint userId, uint otherId, CancellationToken ct)
    {
        if (_sets.TryGetValue(userId, out var cached)) return ValueTask.FromResult(cached.Contains(otherId));
        return Load(userId, otherId, ct);

        async ValueTask<bool> Load(uint user, uint other, CancellationToken token) => (await SetOfAsync(user, token)).Contains(other);
    }

    /// <summary>Where an invalidation is told to the other nodes (null: one node, nothing to tell).</summary>
    public ICacheNotices? Notices { get; set; }

    /// <summary>The relation between the two users changed (here, after the database holds it): dropped here at once
    /// and on every other node; the task completes when the other nodes were told (await it before answering).</summary>
    public Task Invalidate(uint userId, uint otherId)
    {
        Drop(userId, otherId);
        return Notices?.Changed(relation, userId, otherId) ?? Task.CompletedTask;
    }

    /// <summary>Another node changed the relation between the two users: drops this node's copies only.</summary>
    public void Drop(uint userId, uint otherId)
    {
        Interlocked.Increment(ref _generation);
        _sets.TryRemove(userId, out _);
        _sets.TryRemove(otherId, out _);
    }

    /// <summary>Everything (notices may have been missed while the link to the other nodes was down).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _sets.Clear();
    }

    /// <summary>The user left this node: free the set.</summary>
    public void Forget(uint userId) => _sets.TryRemove(userId, out _);

    public int Count => _sets.Count;
}

/// <summary>Friend sets (friendships change through the friend service, which invalidates).</summary>
public sealed class FriendSetCache(IFriendLookup lookup) : UserSetCache(lookup.FriendIdsAsync, lookup.FriendIdsOfAsync, CachedRelation.Friends)
{
    public ValueTask<FrozenSet<uint>> FriendsOfAsync(uint userId, CancellationToken ct) => SetOfAsync(userId, ct);

    public ValueTask<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) => ContainsAsync(userId, otherId, ct);
}

/// <summary>Who is in a block with a user, either way (the friend store answers from user_blocks).</summary>
public interface IBlockLookup
{
    /// <summary>Users the user blocked and users who blocked the user.</summary>
    Task<IReadOnlyList<uint>> BlockedWithAsync(uint userId, CancellationToken ct);

    /// <summary>The same for many users at once (every asked user is a key); this default asks one user at a time.</summary>
    async Task<IReadOnlyDictionary<uint, IReadOnlyList<uint>>> BlockedWithManyAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct)
    {
        var sets = new Dictionary<uint, IReadOnlyList<uint>>(userIds.Count);
        foreach (uint user in userIds) sets[user] = await BlockedWithAsync(user, ct);
        return sets;
    }
}

/// <summary>
/// Block sets: every send_message asks "is there a block between these two" before "are they friends". Block and
/// unblock invalidate both users, so a block takes effect at once for sends.
/// </summary>
public sealed class BlockSetCache(IBlockLookup lookup) : UserSetCache(lookup.BlockedWithAsync, lookup.BlockedWithManyAsync, CachedRelation.Blocks)
{
    public ValueTask<FrozenSet<uint>> BlockedWithAsync(uint userId, CancellationToken ct) => SetOfAsync(userId, ct);

    /// <summary>True when either user blocked the other.</summary>
    public ValueTask<bool> IsBlockedAsync(uint userId, uint otherId, CancellationToken ct) => ContainsAsync(userId, otherId, ct);
}
