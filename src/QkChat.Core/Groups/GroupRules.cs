namespace QkChat.Core.Groups;

/// <summary>
/// Who may do what in a group (protocol.md §9). The store asks these inside the transaction that makes the change,
/// with the roles it has just locked, so a role changed by a concurrent action cannot slip between check and write.
/// </summary>
public static class GroupRules
{
    /// <summary>How long a sender may recall their own entry (protocol.md §9, as RECALL_WINDOW_EXPIRED for one-to-one).</summary>
    public const long RecallWindowMs = 120_000;

    public static bool CanAddMembers(GroupRole actor) => actor is GroupRole.Owner or GroupRole.Admin;

    public static bool CanRename(GroupRole actor) => actor is GroupRole.Owner or GroupRole.Admin;

    /// <summary>The owner removes anyone but themselves (they leave or transfer); an admin removes members only.</summary>
    public static bool CanRemove(GroupRole actor, GroupRole target) =>
        actor == GroupRole.Owner ? target != GroupRole.Owner : actor == GroupRole.Admin && target == GroupRole.Member;

    /// <summary>Owner only, and only between admin and member (ownership moves by transfer).</summary>
    public static bool CanSetRole(GroupRole actor, GroupRole target, GroupRole role) =>
        actor == GroupRole.Owner && target != GroupRole.Owner && role != GroupRole.Owner;

    public static bool CanTransfer(GroupRole actor) => actor == GroupRole.Owner;

    public static bool CanDissolve(GroupRole actor) => actor == GroupRole.Owner;

    /// <summary>The owner may leave only as the last member (which dissolves the group); they transfer first otherwise.</summary>
    public static bool CanLeave(GroupRole role, int memberCount) => role != GroupRole.Owner || memberCount == 1;

    /// <summary>Whether <paramref name="actorId"/> may recall a text entry of <paramref name="senderId"/> sent at <paramref name="sentAt"/>.</summary>
    public static GroupRecallResult CanRecall(GroupRole actor, uint actorId, uint senderId, long sentAt, long now)
    {
        if (actor is GroupRole.Owner or GroupRole.Admin) return GroupRecallResult.Recalled;
        if (actorId != senderId) return GroupRecallResult.Forbidden;
        return now - sentAt > RecallWindowMs ? GroupRecallResult.WindowExpired : GroupRecallResult.Recalled;
    }
}
