using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace QkChat.Core.Friends;

/// <summary>Who is in a block with a user, either way (the friend store answers from user_blocks).</summary>
public interface IBlockLookup
{
    /// <summary>Users the user blocked and users who blocked the user.</summary>
    Task<IReadOnlyList<uint>> BlockedWithAsync(uint userId, CancellationToken ct);
}

/// <summary>
/// Like <see cref="FriendSetCache"/>, for blocks: every send_message asks "is there a block between these two" before
/// "are they friends", and an active user's answer is in memory, so the send's fast path stays on the reactor with
/// no query. Block and unblock invalidate both users' entries after the database holds the change, so the next
/// send loads the new truth: a block takes effect at once for sends. Most users block nobody: they share one empty
/// set. With several nodes a block on another node must invalidate here too (a Redis channel, with multi-node
/// routing), as for friendships.
/// </summary>
public sealed class BlockSetCache(IBlockLookup lookup)
{
    private static readonly FrozenSet<uint> None = FrozenSet<uint>.Empty;
    private readonly ConcurrentDictionary<uint, FrozenSet<uint>> _sets = new();

    // Bumped by every invalidation: a load that raced one must not store its (possibly stale) answer.
    private long _generation;

    public async ValueTask<FrozenSet<uint>> BlockedWithAsync(uint userId, CancellationToken ct)
    {
        if (_sets.TryGetValue(userId, out var cached)) return cached;
        long generation = Interlocked.Read(ref _generation);
        var ids = await lookup.BlockedWithAsync(userId, ct);
        var loaded = ids.Count == 0 ? None : ids.ToFrozenSet();
        if (Interlocked.Read(ref _generation) == generation) _sets.TryAdd(userId, loaded);
        return loaded;
    }

    /// <summary>True when either user blocked the other.</summary>
    public ValueTask<bool> IsBlockedAsync(uint userId, uint otherId, CancellationToken ct)
    {
        // Synchronous when cached: send_message's reactor path depends on it.
        if (_sets.TryGetValue(userId, out var cached)) return ValueTask.FromResult(cached.Contains(otherId));
        return Load(userId, otherId, ct);

        async ValueTask<bool> Load(uint user, uint other, CancellationToken token) => (await BlockedWithAsync(user, token)).Contains(other);
    }

    /// <summary>One of the two blocked or unblocked the other.</summary>
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
