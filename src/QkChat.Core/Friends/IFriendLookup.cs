namespace QkChat.Core.Friends;

/// <summary>The friendship questions that presence and messaging ask (the friend store answers them from MariaDB).</summary>
public interface IFriendLookup
{
    Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct);

    Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct);
}
