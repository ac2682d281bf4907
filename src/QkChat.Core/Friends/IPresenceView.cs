namespace QkChat.Core.Friends;

/// <summary>
/// What others may see of a user's presence (protocol.md §5 Presence, §8 ranking): the friend list and the
/// conversation list read it. Owned here, by its readers, and implemented by Presence's PresenceTracker, so Friends
/// does not depend on Presence (which depends on Friends for who is told).
/// </summary>
public interface IPresenceView
{
    /// <summary>`online`, `busy`, `away` or `offline`: the most present device, with `invisible` shown as `offline`.</summary>
    string VisibleStatus(uint userId);

    /// <summary>Unix ms when the user was last seen online, or null when they never were (or it is not known here).</summary>
    long? LastSeen(uint userId);

    /// <summary>
    /// A view that answers for <paramref name="userIds"/> over all nodes: with several nodes one pipelined read of the
    /// deployment's presence table (docs/cluster.md, "Presence"), with one node this view itself. Awaited in a request's
    /// async part, never on a reactor; Redis down: this node's view.
    /// </summary>
    ValueTask<IPresenceView> OverAllNodesAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct);
}
