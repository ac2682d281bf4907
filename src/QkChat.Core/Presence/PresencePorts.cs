namespace QkChat.Core.Presence;

/// <summary>users.last_seen_at: written when a user goes offline (or invisible) to their friends.</summary>
public interface ILastSeenStore
{
    Task SetLastSeenAsync(uint userId, long at, CancellationToken ct);
}

/// <summary>
/// The cluster's answer to "is U online, and where" (Redis): each node records the devices it serves, with a
/// TTL that its refresher renews, so a crashed node's entries expire by themselves. One node only writes it
/// today; routing to other nodes reads it when multi-node delivery lands.
/// </summary>
public interface IPresenceDirectory
{
    Task DeviceOnlineAsync(uint userId, string clientId, CancellationToken ct);

    Task DeviceOfflineAsync(uint userId, string clientId, CancellationToken ct);

    /// <summary>Renews the entries of every device this node serves.</summary>
    Task RefreshAsync(IReadOnlyCollection<(uint UserId, string ClientId)> devices, CancellationToken ct);

    /// <summary>The nodes that serve a device of the user.</summary>
    Task<IReadOnlyList<string>> NodesOfAsync(uint userId, CancellationToken ct);
}
