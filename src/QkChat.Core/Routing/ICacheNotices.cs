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
/// hands the notices of other nodes back to the caches. Never blocks the caller: the task completes when Redis has
/// passed the notice on to the other nodes (or failed to, which is logged, not thrown); a change awaits it before its
/// answer, so the answer never overtakes the notice.
/// </summary>
public interface ICacheNotices
{
    Task Changed(CachedRelation relation, long first, long second);
}
