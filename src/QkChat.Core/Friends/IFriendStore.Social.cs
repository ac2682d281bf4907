namespace QkChat.Core.Friends;

public enum BlockOutcome
{
    Blocked,
    AlreadyBlocked,

    /// <summary>No user with that id.</summary>
    NotFound,
}

public enum IgnoreOutcome
{
    Ignored,

    /// <summary>No pending or answered request with that id is addressed to the caller.</summary>
    NotFound,

    /// <summary>Already answered: <see cref="IgnoreResult.WasAccepted"/> says how.</summary>
    AlreadyAnswered,
}

public readonly record struct IgnoreResult(IgnoreOutcome Outcome, bool WasAccepted);

public enum GroupOutcome
{
    Done,

    /// <summary>No group with that id belongs to the caller.</summary>
    NotFound,

    /// <summary>The caller has a group of that name already (ignoring case), or it is "default".</summary>
    NameTaken,

    /// <summary>The caller has <see cref="FriendService.MaxGroups"/> groups already.</summary>
    TooMany,
}

public readonly record struct GroupResult(GroupOutcome Outcome, uint GroupId);

public enum MoveOutcome
{
    Moved,
    NotFriend,
    NoSuchGroup,
}

/// <summary>A friend group as get_friend_groups shows it (group 0 is the default group).</summary>
public sealed record FriendGroup(uint GroupId, string GroupName, int Count);

/// <summary>protocol.md §7: blocks, ignoring requests, remarks and groups. Every method is keyed by the caller's id.</summary>
public partial interface IFriendStore : IBlockLookup
{
    /// <summary>
    /// Stores the block, and in the same transaction hides a pending request from the blocked user (ignored by the
    /// target) and cancels the caller's own pending request to them.
    /// </summary>
    Task<BlockOutcome> BlockAsync(uint userId, uint blockedId, long now, CancellationToken ct);

    /// <summary>False when the caller had not blocked that user.</summary>
    Task<bool> UnblockAsync(uint userId, uint blockedId, CancellationToken ct);

    /// <summary>Users the caller blocked, most recent first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<UserCard>> ListBlockedAsync(uint userId, int limit, CancellationToken ct);

    Task<IgnoreResult> IgnoreRequestAsync(uint userId, ulong requestId, CancellationToken ct);

    /// <summary>False when the two are not friends.</summary>
    Task<bool> SetRemarkAsync(uint userId, uint friendId, string remark, CancellationToken ct);

    Task<GroupResult> CreateGroupAsync(uint userId, string name, int maxGroups, long now, CancellationToken ct);

    Task<GroupOutcome> RenameGroupAsync(uint userId, uint groupId, string name, CancellationToken ct);

    /// <summary>Deletes one of the caller's groups, moving its friends to group 0; false when it is not theirs.</summary>
    Task<bool> DeleteGroupAsync(uint userId, uint groupId, CancellationToken ct);

    /// <summary>Moves a friend into group 0 or one of the caller's groups.</summary>
    Task<MoveOutcome> MoveFriendAsync(uint userId, uint friendId, uint groupId, CancellationToken ct);

    /// <summary>The default group (id 0, named "default") first, then the caller's groups in creation order, with friend counts.</summary>
    Task<IReadOnlyList<FriendGroup>> ListGroupsAsync(uint userId, CancellationToken ct);
}
