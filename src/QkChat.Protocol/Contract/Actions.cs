namespace QkChat.Protocol;

/// <summary>
/// Every action of protocol.md §5, §7, §9, §10 and of docs/protocol.md (get_security_events), as it appears on the wire. The
/// server registers its routes with these, and clients, the CLI and the load generator send them: a rename is one
/// edit here. No other project writes an action name as a string literal (tests/QkChat.Tests/Architecture/
/// WireNameLiteralTests.cs).
/// </summary>
public static class Actions
{
    // Engine (§2, §4).
    public const string Heartbeat = "heartbeat";

    // Accounts (§5).
    public const string SendVerificationCode = "send_verification_code";
    public const string Register = "register";
    public const string Login = "login";
    public const string LoginToken = "login_token";
    public const string Logout = "logout";
    public const string ResetPassword = "reset_password";
    public const string ChangePassword = "change_password";
    public const string GetSessions = "get_sessions";
    public const string RevokeSession = "revoke_session";
    public const string CheckUsername = "check_username";
    public const string CheckEmail = "check_email";

    // Security events (issue 11, docs/audit.md).
    public const string GetSecurityEvents = "get_security_events";

    // Presence (§5).
    public const string StatusUpdate = "status_update";

    // Users and friends (§5, §7). The friend "group" actions keep their wire names: they sort friends into categories.
    public const string SearchUsers = "search_users";
    public const string FriendRequest = "friend_request";
    public const string RespondFriendRequest = "respond_friend_request";
    public const string GetFriendRequests = "get_friend_requests";
    public const string GetFriendList = "get_friend_list";
    public const string DeleteFriend = "delete_friend";
    public const string IgnoreFriendRequest = "ignore_friend_request";
    public const string BlockUser = "block_user";
    public const string UnblockUser = "unblock_user";
    public const string GetBlockedUsers = "get_blocked_users";
    public const string SetFriendRemark = "set_friend_remark";
    public const string CreateFriendGroup = "create_friend_group";
    public const string RenameFriendGroup = "rename_friend_group";
    public const string DeleteFriendGroup = "delete_friend_group";
    public const string MoveFriendToGroup = "move_friend_to_group";
    public const string GetFriendGroups = "get_friend_groups";

    // Messages (§5, §7).
    public const string SendMessage = "send_message";
    public const string MessageAck = "message_ack";
    public const string MarkRead = "mark_read";
    public const string RecallMessage = "recall_message";
    public const string GetChatHistory = "get_chat_history";
    public const string GetConversations = "get_conversations";
    public const string SyncMessages = "sync_messages";
    public const string SearchMessages = "search_messages";
    public const string DeleteMessage = "delete_message";
    public const string GetUnreadCounts = "get_unread_counts";

    // Group chat (§9). Not the friend "groups" above, which sort one's friends.
    public const string CreateGroup = "create_group";
    public const string GetGroups = "get_groups";
    public const string GetGroupInfo = "get_group_info";
    public const string GetGroupMembers = "get_group_members";
    public const string AddGroupMembers = "add_group_members";
    public const string RemoveGroupMember = "remove_group_member";
    public const string LeaveGroup = "leave_group";
    public const string SetGroupRole = "set_group_role";
    public const string TransferGroupOwner = "transfer_group_owner";
    public const string RenameGroup = "rename_group";
    public const string DissolveGroup = "dissolve_group";
    public const string SendGroupMessage = "send_group_message";
    public const string GetGroupHistory = "get_group_history";
    public const string SyncGroupMessages = "sync_group_messages";
    public const string MarkGroupRead = "mark_group_read";
    public const string RecallGroupMessage = "recall_group_message";

    // Files (§10): control on the chat connection; the bytes travel over HTTP.
    public const string FileUploadInit = "file_upload_init";
    public const string GetFileUrl = "get_file_url";
}
