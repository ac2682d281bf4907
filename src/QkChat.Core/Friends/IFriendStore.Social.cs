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

public enum CategoryOutcome
{
    Done,

    /// <summary>No category with that id belongs to the caller.</summary>
    NotFound,

    /// <summary>The caller has a category of that name already (ignoring case), or it is "default".</summary>
    NameTaken,

    /// <summary>The caller has <see cref="FriendService.MaxCategories"/> categories already.</summary>
    TooMany,
}

public readonly record struct CategoryResult(CategoryOutcome Outcome, uint CategoryId);

public enum MoveOutcome
{
    Moved,
    NotFriend,
    NoSuchCategory,
}

/// <summary>A friend category as get_friend_groups shows it (category 0 is the default one).</summary>
public sealed record FriendCategory(uint CategoryId, string CategoryName, int Count);

/// <summary>protocol.md §7: blocks, ignoring requests, remarks and friend categories. Every method is keyed by the caller's id.</summary>
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

    Task<CategoryResult> CreateCategoryAsync(uint userId, string name, int maxCategories, long now, CancellationToken ct);

    Task<CategoryOutcome> RenameCategoryAsync(uint userId, uint categoryId, string name, CancellationToken ct);

    /// <summary>Deletes one of the caller's categories, moving its friends to category 0; false when it is not theirs.</summary>
    Task<bool> DeleteCategoryAsync(uint userId, uint categoryId, CancellationToken ct);

    /// <summary>Moves a friend into category 0 or one of the caller's categories.</summary>
    Task<MoveOutcome> MoveFriendAsync(uint userId, uint friendId, uint categoryId, CancellationToken ct);

    /// <summary>The default category (id 0, named "default") first, then the caller's categories in creation order, with friend counts.</summary>
    Task<IReadOnlyList<FriendCategory>> ListCategoriesAsync(uint userId, CancellationToken ct);
}
