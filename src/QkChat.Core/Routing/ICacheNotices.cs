namespace QkChat.Core.Routing;

/// <summary>Which per-node cache a notice is about (docs/cluster.md, "Caches").</summary>
public enum CachedRelation : byte
{
    /// <summary>The friendship of two users (<c>FriendSetCache</c>).</summary>
    Friends = 1,

    /// <summary>A block between two users, either way (<c>BlockSetCache</c>).</summary>
    Blocks = 2,

    /// <summary>A group's members or roles (<c>GroupMemberCache</c>); the second id is 0.</summary>
    GroupMembers = 3,
}

/// <summary>
/// Tells the other nodes that a relation some node may have cached has changed in MariaDB, so that each drops its copy
/// (protocol.md §12: every rule holds across nodes). The caches call it after the database holds the change; the
/// Redis adapter (QkChat.Server.Cluster.CacheNoticeChannel) publishes on one channel every node subscribes to and
/// hands the notices of other nodes back to the caches. Never blocks: a publish is queued, not awaited.
/// </summary>
public interface ICacheNotices
{
    void Changed(CachedRelation relation, long first, long second);
}
