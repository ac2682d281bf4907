namespace QkChat.Protocol;

/// <summary>
/// Every push of protocol.md §6, as it appears in a push's "action". <c>friend_request</c> is both an action and a
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

    /// <summary>The error push's name as UTF-8: <see cref="EnvelopeWriter"/> writes it without encoding a string.</summary>
    public static ReadOnlySpan<byte> ErrorUtf8 => "error"u8;
}
