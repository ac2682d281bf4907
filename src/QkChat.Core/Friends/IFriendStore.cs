namespace QkChat.Core.Friends;

/// <summary>A user as others may see them: never the e-mail or anything secret.</summary>
public sealed record UserCard(uint UserId, string Username);

/// <summary>
/// A friend; <paramref name="LastSeenAt"/> is users.last_seen_at (null if never recorded); <paramref name="CategoryId"/>
/// (0: the default category) and <paramref name="Remark"/> ("" when none) are the owner's private view.
/// </summary>
public sealed record FriendEntry(uint UserId, string Username, long? LastSeenAt, uint CategoryId = 0, string Remark = "");

/// <summary>A pending request as get_friend_requests shows it: <paramref name="UserId"/> is the other side.</summary>
public sealed record FriendRequestEntry(ulong RequestId, uint UserId, string Username, string Message, long CreatedAt);

public sealed record FriendRequestLists(
    IReadOnlyList<FriendRequestEntry> Incoming, bool IncomingMore,
    IReadOnlyList<FriendRequestEntry> Outgoing, bool OutgoingMore);

public enum SendOutcome
{
    /// <summary>A new pending request (RequestId, CreatedAt).</summary>
    Created,

    /// <summary>The target had already asked the sender: that earlier request (RequestId) is accepted, both are friends.</summary>
    BecameFriends,
    AlreadyFriends,
    AlreadyPending,

    /// <summary>The target vanished between lookup and insert.</summary>
    TargetNotFound,
}

public readonly record struct SendResult(SendOutcome Outcome, ulong RequestId, long CreatedAt);

public enum RespondOutcome
{
    Accepted,
    Rejected,

    /// <summary>No request with that id is addressed to the responder (unknown, or someone else's).</summary>
    NotFound,

    /// <summary>Already answered: <see cref="RespondResult.WasAccepted"/> says how.</summary>
    AlreadyAnswered,
}

public readonly record struct RespondResult(RespondOutcome Outcome, uint RequesterId, bool WasAccepted);

public enum NoticeKind
{
    /// <summary>A pending request, for its target (friend_request push; friend_requests.target_notified).</summary>
    Request,

    /// <summary>The answer to a request, for its requester (friend_request_result push; requester_notified).</summary>
    Result,
}

/// <summary>
/// A notification owed to <paramref name="RecipientId"/>. <paramref name="OtherId"/>/<paramref name="OtherUsername"/>
/// are the requester for a Request and the responder (the target) for a Result.
/// </summary>
public sealed record FriendNotice(NoticeKind Kind, ulong RequestId, uint RecipientId, uint OtherId, string OtherUsername,
    string Message, long CreatedAt, bool Accepted);

/// <summary>
/// Delivers a notice to the recipient's live devices and says whether at least one got it. Called inside the
/// store's lock on the notice, so it must be quick and never block (it queues a push and returns).
/// </summary>
public delegate bool NoticeDelivery(FriendNotice notice);

/// <summary>
/// Friend requests and friendships in MariaDB. Every change that two users can race on (mutual requests, an
/// answer against a new request) runs in one transaction that first locks both users' rows in id order, so the
/// database, not timing, decides what happens.
/// </summary>
public partial interface IFriendStore : IFriendLookup
{
    Task<IReadOnlyList<UserCard>> SearchAsync(UserSearch search, int limit, CancellationToken ct);

    Task<UserCard?> FindAsync(FriendTarget target, CancellationToken ct);

    Task<SendResult> SendRequestAsync(uint fromUserId, uint toUserId, string message, long now, CancellationToken ct);

    /// <summary>Answers a pending request addressed to <paramref name="responderId"/>; an accept stores both friendship rows.</summary>
    Task<RespondResult> RespondAsync(uint responderId, ulong requestId, bool accept, long now, CancellationToken ct);

    /// <summary>Pending requests to the user (not ignored) and from the user, newest first, at most <paramref name="perDirection"/> each.</summary>
    Task<FriendRequestLists> ListRequestsAsync(uint userId, int perDirection, CancellationToken ct);

    /// <summary>Friends with a user id above <paramref name="afterUserId"/>, in id order, at most <paramref name="limit"/>.</summary>
    Task<(IReadOnlyList<FriendEntry> Friends, bool HasMore)> ListFriendsAsync(uint userId, uint afterUserId, int limit, CancellationToken ct);

    /// <summary>Removes both rows; false when the two were not friends.</summary>
    Task<bool> DeleteFriendshipAsync(uint userId, uint friendId, CancellationToken ct);

    /// <summary>
    /// If the notice of <paramref name="requestId"/> is still owed (locked while this runs), hands it to
    /// <paramref name="deliver"/> and records it delivered when that returns true. Returns whether it was delivered.
    /// </summary>
    Task<bool> DeliverNoticeAsync(NoticeKind kind, ulong requestId, NoticeDelivery deliver, CancellationToken ct);

    /// <summary>Every notice still owed to the user (at most <paramref name="max"/>, oldest first), as above; returns how many were delivered.</summary>
    Task<int> DeliverOwedNoticesAsync(uint userId, int max, NoticeDelivery deliver, CancellationToken ct);
}
