using QkChat.Protocol;

namespace QkChat.LoadGen.Fuzz;

/// <summary>What a field holds on the wire (protocol.md §5, §7 and §9).</summary>
public enum FieldKind
{
    Text,
    Integer,
    Boolean,
    IntegerArray,
    /// <summary>friend_request's user_identifier: a string or an integer.</summary>
    TextOrInteger,
}

public sealed record FuzzField(string Name, FieldKind Kind);

public sealed record FuzzAction(string Name, params FuzzField[] Fields);

/// <summary>
/// Every action of docs/protocol.md with its fields, the fuzzer's templates for valid requests (a unit test holds
/// this list equal to the protocol page's, so a new action cannot go unfuzzed).
/// </summary>
public static class FuzzActions
{
    private static FuzzField S(string name) => new(name, FieldKind.Text);
    private static FuzzField I(string name) => new(name, FieldKind.Integer);

    public static readonly FuzzAction[] All =
    [
        new(Actions.Heartbeat, S("client_id")),
        new(Actions.SendVerificationCode, S("email"), S("type")),
        new(Actions.Register, S("username"), S("email"), S("password"), S("verification_code")),
        new(Actions.Login, S("username"), S("password"), S("client_id"), S("device")),
        new(Actions.LoginToken, S("token"), S("client_id")),
        new(Actions.Logout),
        new(Actions.ResetPassword, S("email"), S("verification_code"), S("new_password")),
        new(Actions.ChangePassword, S("old_password"), S("new_password")),
        new(Actions.GetSessions),
        new(Actions.RevokeSession, S("client_id")),
        new(Actions.GetSecurityEvents, I("limit"), I("before")),
        new(Actions.StatusUpdate, S("status"), S("client_id")),
        new(Actions.SearchUsers, S("query"), I("limit")),
        new(Actions.FriendRequest, new FuzzField("user_identifier", FieldKind.TextOrInteger), S("message")),
        new(Actions.RespondFriendRequest, I("friend_request_id"), new FuzzField("accept", FieldKind.Boolean)),
        new(Actions.GetFriendRequests),
        new(Actions.GetFriendList, I("limit"), I("after_user_id")),
        new(Actions.DeleteFriend, I("friend_id")),
        new(Actions.SendMessage, I("receiver_id"), S("content"), S("type"), S("client_msg_id"), I("file_id")),
        new(Actions.MessageAck, new FuzzField("message_ids", FieldKind.IntegerArray)),
        new(Actions.MarkRead, I("chat_user_id"), I("up_to_message_id")),
        new(Actions.RecallMessage, I("message_id")),
        new(Actions.GetChatHistory, I("chat_user_id"), I("limit"), I("offset"), I("before_message_id")),
        new(Actions.GetConversations, I("limit")),
        new(Actions.SyncMessages, I("after_message_id"), I("limit")),
        new(Actions.CheckUsername, S("username")),
        new(Actions.CheckEmail, S("email")),
        new(Actions.IgnoreFriendRequest, I("friend_request_id")),
        new(Actions.BlockUser, I("user_id")),
        new(Actions.UnblockUser, I("user_id")),
        new(Actions.GetBlockedUsers),
        new(Actions.SetFriendRemark, I("friend_id"), S("remark")),
        new(Actions.CreateFriendGroup, S("group_name")),
        new(Actions.RenameFriendGroup, I("group_id"), S("new_name")),
        new(Actions.DeleteFriendGroup, I("group_id")),
        new(Actions.MoveFriendToGroup, I("friend_id"), I("group_id")),
        new(Actions.GetFriendGroups),
        new(Actions.SearchMessages, S("keyword"), I("chat_user_id"), I("limit")),
        new(Actions.DeleteMessage, I("message_id")),
        new(Actions.GetUnreadCounts),
        new(Actions.CreateGroup, S("name"), new FuzzField("member_ids", FieldKind.IntegerArray)),
        new(Actions.GetGroups),
        new(Actions.GetGroupInfo, I("group_id")),
        new(Actions.GetGroupMembers, I("group_id"), I("limit"), I("after_user_id")),
        new(Actions.AddGroupMembers, I("group_id"), new FuzzField("user_ids", FieldKind.IntegerArray)),
        new(Actions.RemoveGroupMember, I("group_id"), I("user_id")),
        new(Actions.LeaveGroup, I("group_id")),
        new(Actions.SetGroupRole, I("group_id"), I("user_id"), S("role")),
        new(Actions.TransferGroupOwner, I("group_id"), I("user_id")),
        new(Actions.RenameGroup, I("group_id"), S("name")),
        new(Actions.DissolveGroup, I("group_id")),
        new(Actions.SendGroupMessage, I("group_id"), S("content"), S("type"), S("client_msg_id"), I("file_id")),
        new(Actions.GetGroupHistory, I("group_id"), I("limit"), I("before_seq")),
        new(Actions.SyncGroupMessages, I("group_id"), I("after_seq"), I("limit")),
        new(Actions.MarkGroupRead, I("group_id"), I("up_to_seq")),
        new(Actions.RecallGroupMessage, I("group_id"), I("seq")),
        new(Actions.FileUploadInit, S("name"), I("size"), S("sha256"), S("mime")),
        new(Actions.GetFileUrl, I("file_id")),
    ];
}
