namespace QkChat.Protocol;

/// <summary>The result codes of protocol.md §3, as they appear on the wire.</summary>
public static class ErrorCodes
{
    public const string Ok = "OK";
    public const string BadJson = "BAD_JSON";
    public const string BadFrame = "BAD_FRAME";
    public const string FrameTooLarge = "FRAME_TOO_LARGE";
    public const string UnknownAction = "UNKNOWN_ACTION";
    public const string InvalidArgument = "INVALID_ARGUMENT";
    public const string Unauthenticated = "UNAUTHENTICATED";
    public const string Forbidden = "FORBIDDEN";
    public const string NotFound = "NOT_FOUND";
    public const string AlreadyExists = "ALREADY_EXISTS";
    public const string InvalidCredentials = "INVALID_CREDENTIALS";
    public const string InvalidCode = "INVALID_CODE";
    public const string CodeExpired = "CODE_EXPIRED";
    public const string TokenInvalid = "TOKEN_INVALID";
    public const string NotFriends = "NOT_FRIENDS";
    public const string RecallWindowExpired = "RECALL_WINDOW_EXPIRED";
    public const string RateLimited = "RATE_LIMITED";
    public const string ServerBusy = "SERVER_BUSY";
    public const string Unavailable = "UNAVAILABLE";
    public const string Internal = "INTERNAL";
}
