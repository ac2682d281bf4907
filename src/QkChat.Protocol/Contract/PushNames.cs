namespace QkChat.Protocol;

/// <summary>
/// Every push of protocol.md §6 and §9, as it appears in a push's "action". <c>friend_request</c> is both an action and a
/// push (the request, and the notice its target gets).
/// </summary>
public static class PushNames
{
    public const string Message = "message";
    public const string OfflineMessages = "offline_messages";
    public const string MessageStatus = "message_status";
    public const string MessageRecalled = "message_recalled";
    public const string FriendRequest = "friend_request";
    public const string FriendRequestResult = "friend_request_result";
    public const string FriendDeleted = "friend_deleted";
    public const string Presence = "presence";
    public const string Kicked = "kicked";
    public const string ServerShutdown = "server_shutdown";
    public const string Error = "error";

    // Group chat (§9).
    public const string GroupMessage = "group_message";
    public const string GroupEvent = "group_event";
    public const string GroupMessageRecalled = "group_message_recalled";
    public const string GroupRead = "group_read";

    /// <summary>The error push's name as UTF-8: <see cref="EnvelopeWriter"/> writes it without encoding a string.</summary>
    public static ReadOnlySpan<byte> ErrorUtf8 => "error"u8;
}
