using Microsoft.Extensions.Logging;

namespace QkChat.Core.Friends;

/// <summary>Friend log lines: user ids only, never request messages (they are private text).</summary>
public sealed partial class FriendService
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "user {From} sent a friend request to {To}")]
    private static partial void LogRequestSent(ILogger logger, uint from, uint to);

    [LoggerMessage(Level = LogLevel.Information, Message = "users {A} and {B} became friends")]
    private static partial void LogBecameFriends(ILogger logger, uint a, uint b);

    [LoggerMessage(Level = LogLevel.Debug, Message = "user {Responder} rejected the friend request of {Requester}")]
    private static partial void LogRejected(ILogger logger, uint responder, uint requester);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} deleted friend {FriendId}")]
    private static partial void LogDeleted(ILogger logger, uint userId, uint friendId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "user {UserId} got {Count} friend notices owed since their last login")]
    private static partial void LogOwedDelivered(ILogger logger, uint userId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "friend notice for user {UserId} not delivered now (stays owed): {Reason}")]
    private static partial void LogNoticeFailed(ILogger logger, uint userId, string reason);


    [LoggerMessage(Level = LogLevel.Error, Message = "friend request failed")]
    private static partial void LogInternal(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} blocked {BlockedId}")]
    private static partial void LogBlocked(ILogger logger, uint userId, uint blockedId);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} unblocked {BlockedId}")]
    private static partial void LogUnblocked(ILogger logger, uint userId, uint blockedId);
}
