using Microsoft.Extensions.Logging;

namespace QkChat.Core.Accounts;

/// <summary>Account log lines: never a password, token or code; user ids and client addresses only.</summary>
public sealed partial class AccountService
{
    [LoggerMessage(Level = LogLevel.Information, Message = "verification code issued for {Purpose} (mailed: {Mailed})")]
    private static partial void LogCodeIssued(ILogger logger, CodePurpose purpose, bool mailed);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} registered")]
    private static partial void LogRegistered(ILogger logger, uint userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} logged in")]
    private static partial void LogLoggedIn(ILogger logger, uint userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "failed login from {Ip}")]
    private static partial void LogLoginFailed(ILogger logger, string ip);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} reset the password; {Revoked} sessions revoked")]
    private static partial void LogPasswordReset(ILogger logger, uint userId, int revoked);

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} changed the password; {Revoked} other sessions revoked")]
    private static partial void LogPasswordChanged(ILogger logger, uint userId, int revoked);
}
