using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>Typed calls for the friend actions (protocol.md §5, §7); see <see cref="ChatClient.RequestAsync{TBody}"/>.</summary>
public sealed partial class ChatClient
{
    public Task<Envelope> SearchUsersAsync(string query, int? limit = null, CancellationToken ct = default) =>
        RequestAsync(Actions.SearchUsers, new FriendRequest { Query = query, Limit = limit }, ct: ct);

    /// <summary>friend_request to a username, an e-mail address or a user id written as 9 digits.</summary>
    public Task<Envelope> SendFriendRequestAsync(string userIdentifier, string? message = null, CancellationToken ct = default) =>
        RequestAsync(Actions.FriendRequest, new FriendRequest { UserIdentifier = JsonString(userIdentifier), Message = message }, ct: ct);

    public Task<Envelope> RespondFriendRequestAsync(long friendRequestId, bool accept, CancellationToken ct = default) =>
        RequestAsync(Actions.RespondFriendRequest, new FriendRequest { FriendRequestId = friendRequestId, Accept = accept }, ct: ct);

    public Task<Envelope> GetFriendRequestsAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.GetFriendRequests, writeFields: null, ct: ct);

    public Task<Envelope> GetFriendListAsync(int? limit = null, long? afterUserId = null, CancellationToken ct = default) =>
        RequestAsync(Actions.GetFriendList, new FriendRequest { Limit = limit, AfterUserId = afterUserId }, ct: ct);

    public Task<Envelope> DeleteFriendAsync(long friendId, CancellationToken ct = default) =>
        RequestAsync(Actions.DeleteFriend, new FriendRequest { FriendId = friendId }, ct: ct);

    public Task<Envelope> IgnoreFriendRequestAsync(long friendRequestId, CancellationToken ct = default) =>
        RequestAsync(Actions.IgnoreFriendRequest, new FriendRequest { FriendRequestId = friendRequestId }, ct: ct);

    public Task<Envelope> BlockUserAsync(long userId, CancellationToken ct = default) =>
        RequestAsync(Actions.BlockUser, new FriendRequest { UserId = userId }, ct: ct);

    public Task<Envelope> UnblockUserAsync(long userId, CancellationToken ct = default) =>
        RequestAsync(Actions.UnblockUser, new FriendRequest { UserId = userId }, ct: ct);

    public Task<Envelope> GetBlockedUsersAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.GetBlockedUsers, writeFields: null, ct: ct);

    /// <param name="remark">Null or empty clears the remark.</param>
    public Task<Envelope> SetFriendRemarkAsync(long friendId, string? remark, CancellationToken ct = default) =>
        RequestAsync(Actions.SetFriendRemark, new FriendRequest { FriendId = friendId, Remark = remark }, ct: ct);

    // The friend "group" actions sort friends into the user's own categories (protocol.md §7); the methods keep the
    // actions' names, the values are categories (as in the server's code, where "group" is left to chat groups).
    public Task<Envelope> CreateFriendGroupAsync(string categoryName, CancellationToken ct = default) =>
        RequestAsync(Actions.CreateFriendGroup, new FriendRequest { CategoryName = categoryName }, ct: ct);

    public Task<Envelope> RenameFriendGroupAsync(long categoryId, string newName, CancellationToken ct = default) =>
        RequestAsync(Actions.RenameFriendGroup, new FriendRequest { CategoryId = categoryId, NewName = newName }, ct: ct);

    public Task<Envelope> DeleteFriendGroupAsync(long categoryId, CancellationToken ct = default) =>
        RequestAsync(Actions.DeleteFriendGroup, new FriendRequest { CategoryId = categoryId }, ct: ct);

    public Task<Envelope> MoveFriendToGroupAsync(long friendId, long categoryId, CancellationToken ct = default) =>
        RequestAsync(Actions.MoveFriendToGroup, new FriendRequest { FriendId = friendId, CategoryId = categoryId }, ct: ct);

    public Task<Envelope> GetFriendGroupsAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.GetFriendGroups, writeFields: null, ct: ct);

    /// <summary>user_identifier holds a JSON string or number; this is the string form.</summary>
    private static JsonElement JsonString(string value)
    {
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(value, ProtocolJsonContext.Default.String));
        return document.RootElement.Clone();
    }
}
