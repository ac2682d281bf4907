namespace QkChat.Core.Presence;

/// <summary>users.last_seen_at: written when a user goes offline (or invisible) to their friends.</summary>
public interface ILastSeenStore
{
    Task SetLastSeenAsync(uint userId, long at, CancellationToken ct);

    /// <summary>The same for many users at one time (a reaped node's users): a few statements, not one per user.</summary>
    Task SetLastSeenAsync(IReadOnlyList<uint> userIds, long at, CancellationToken ct);
}

/// <summary>A user's status as friends see it over all nodes, before and after one step.</summary>
public readonly record struct ClusterChange(uint UserId, PresenceStatus Before, PresenceStatus After);

/// <summary>
/// The deployment's presence table (docs/cluster.md, "Presence"): every device's status on every node, in Redis,
/// with the node lease as the devices' liveness. Each step is atomic there and answers the user's visible status over
/// all nodes before and after it, so of all the nodes exactly one sees a user-level change, and that one tells the
/// friends: a push per change, not per node. Called by the presence worker only, never on a reactor.
/// </summary>
public interface IPresenceDirectory
{
    /// <summary>Sets a device's status on this node; <see cref="PresenceStatus.Offline"/> removes it while this node still
    /// holds it (a device taken over by another node keeps that node's entry).</summary>
    Task<ClusterChange> SetDeviceAsync(uint userId, string clientId, PresenceStatus status, CancellationToken ct);

    /// <summary>
    /// Removes every device of node <paramref name="node"/> of a process that no longer holds its number (it died, or this
    /// is its successor starting), round by round, and hands each round's users whose visible status changed to
    /// <paramref name="tell"/> before those users count as done; answers how many changed. Several nodes may reap one dead
    /// node at once: each user's step is atomic, so only one of them sees each change. Idempotent: an attempt that fails
    /// (here or in <paramref name="tell"/>) leaves its untold changes recorded, and the next attempt, by any node, reports
    /// them (docs/cluster.md, "Node death").
    /// </summary>
    Task<int> ReapNodeAsync(int node, Func<IReadOnlyList<ClusterChange>, Task> tell, CancellationToken ct);

    /// <summary>Each user's most present device status over all nodes (offline users may be left out), read now.</summary>
    Task<IReadOnlyDictionary<uint, PresenceStatus>> StatusesAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct);
}
