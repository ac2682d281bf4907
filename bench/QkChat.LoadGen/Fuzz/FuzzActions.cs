namespace QkChat.LoadGen.Fuzz;

/// <summary>What a field holds on the wire (protocol.md §5 and §7).</summary>
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
        new("heartbeat", S("client_id")),
        new("send_verification_code", S("email"), S("type")),
        new("register", S("username"), S("email"), S("password"), S("verification_code")),
        new("login", S("username"), S("password"), S("client_id"), S("device")),
        new("login_token", S("token"), S("client_id")),
        new("logout"),
        new("reset_password", S("email"), S("verification_code"), S("new_password")),
        new("change_password", S("old_password"), S("new_password")),
        new("get_sessions"),
        new("revoke_session", S("client_id")),
        new("get_security_events", I("limit"), I("before")),
        new("status_update", S("status"), S("client_id")),
        new("search_users", S("query"), I("limit")),
        new("friend_request", new FuzzField("user_identifier", FieldKind.TextOrInteger), S("message")),
        new("respond_friend_request", I("friend_request_id"), new FuzzField("accept", FieldKind.Boolean)),
        new("get_friend_requests"),
        new("get_friend_list", I("limit"), I("after_user_id")),
        new("delete_friend", I("friend_id")),
        new("send_message", I("receiver_id"), S("content"), S("type"), S("client_msg_id")),
        new("message_ack", new FuzzField("message_ids", FieldKind.IntegerArray)),
        new("mark_read", I("chat_user_id"), I("up_to_message_id")),
        new("recall_message", I("message_id")),
        new("get_chat_history", I("chat_user_id"), I("limit"), I("offset"), I("before_message_id")),
        new("get_conversations", I("limit")),
        new("sync_messages", I("after_message_id"), I("limit")),
        new("check_username", S("username")),
        new("check_email", S("email")),
        new("ignore_friend_request", I("friend_request_id")),
        new("block_user", I("user_id")),
        new("unblock_user", I("user_id")),
        new("get_blocked_users"),
        new("set_friend_remark", I("friend_id"), S("remark")),
        new("create_friend_group", S("group_name")),
        new("rename_friend_group", I("group_id"), S("new_name")),
        new("delete_friend_group", I("group_id")),
        new("move_friend_to_group", I("friend_id"), I("group_id")),
        new("get_friend_groups"),
        new("search_messages", S("keyword"), I("chat_user_id"), I("limit")),
        new("delete_message", I("message_id")),
        new("get_unread_counts"),
    ];
}
