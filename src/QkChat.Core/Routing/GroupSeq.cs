using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// Where a push stands in a group's timeline: the entry at <see cref="Seq"/> (`group_message`, `group_event`), or, with
/// <see cref="Follows"/>, a push about that entry that must not overtake it (`group_message_recalled`).
/// </summary>
public readonly record struct GroupSeq(long GroupId, long Seq, bool Follows = false);

/// <summary>One entry read back from MariaDB to fill a gap: its seq, its push and who on this node should get it.</summary>
public sealed record GapEntry(long Seq, uint[] Users, OutboundFrame Frame);

/// <summary>
/// Where <see cref="GroupPushOrder"/> reads the entries a gap is missing (the group feature: the timeline read of
/// sync_group_messages, the current members).
/// </summary>
public interface IGroupGapSource
{
    /// <summary>
    /// The group's stored entries with a seq above <paramref name="afterSeq"/> and below <paramref name="beforeSeq"/>,
    /// ascending, each with its push frame (the caller's reference) and its receivers as the members are now (a member
    /// added later does not get it, a member removed meanwhile neither). A seq it does not return has no entry anybody
    /// here could get. Throws when MariaDB does not answer.
    /// </summary>
    Task<IReadOnlyList<GapEntry>> EntriesAsync(long groupId, long afterSeq, long beforeSeq, CancellationToken ct);
}
