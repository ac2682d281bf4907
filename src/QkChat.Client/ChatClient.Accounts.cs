using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>
/// Typed calls for the engine, account, security-event and presence actions (protocol.md §5). Each sends the action's
/// request record and returns the response envelope, success or not, like <see cref="ChatClient.RequestAsync{TBody}"/>.
/// </summary>
public sealed partial class ChatClient
{
    public Task<Envelope> HeartbeatAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.Heartbeat, writeFields: null, ct: ct);

    /// <param name="type"><see cref="VerificationCodeTypes.Register"/> or <see cref="VerificationCodeTypes.ResetPassword"/>.</param>
    public Task<Envelope> SendVerificationCodeAsync(string email, string type, CancellationToken ct = default) =>
        RequestAsync(Actions.SendVerificationCode, new AccountRequest { Email = email, Type = type }, ct: ct);

    public Task<Envelope> RegisterAsync(string username, string email, string password, string verificationCode,
        CancellationToken ct = default) =>
        RequestAsync(Actions.Register, new AccountRequest
        {
            Username = username, Email = email, Password = password, VerificationCode = verificationCode,
        }, ct: ct);

    /// <param name="username">A username or an e-mail address.</param>
    /// <param name="device">An optional label shown in get_sessions.</param>
    public Task<Envelope> LoginAsync(string username, string password, string clientId, string? device = null,
        CancellationToken ct = default) =>
        RequestAsync(Actions.Login, new AccountRequest { Username = username, Password = password, ClientId = clientId, Device = device }, ct: ct);

    public Task<Envelope> LoginTokenAsync(string token, string clientId, CancellationToken ct = default) =>
        RequestAsync(Actions.LoginToken, new AccountRequest { Token = token, ClientId = clientId }, ct: ct);

    public Task<Envelope> LogoutAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.Logout, writeFields: null, ct: ct);

    public Task<Envelope> ResetPasswordAsync(string email, string verificationCode, string newPassword, CancellationToken ct = default) =>
        RequestAsync(Actions.ResetPassword, new AccountRequest
        {
            Email = email, VerificationCode = verificationCode, NewPassword = newPassword,
        }, ct: ct);

    public Task<Envelope> ChangePasswordAsync(string oldPassword, string newPassword, CancellationToken ct = default) =>
        RequestAsync(Actions.ChangePassword, new AccountRequest { OldPassword = oldPassword, NewPassword = newPassword }, ct: ct);

    public Task<Envelope> GetSessionsAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.GetSessions, writeFields: null, ct: ct);

    public Task<Envelope> RevokeSessionAsync(string clientId, CancellationToken ct = default) =>
        RequestAsync(Actions.RevokeSession, new AccountRequest { ClientId = clientId }, ct: ct);

    public Task<Envelope> CheckUsernameAsync(string username, CancellationToken ct = default) =>
        RequestAsync(Actions.CheckUsername, new AccountRequest { Username = username }, ct: ct);

    public Task<Envelope> CheckEmailAsync(string email, CancellationToken ct = default) =>
        RequestAsync(Actions.CheckEmail, new AccountRequest { Email = email }, ct: ct);

    public Task<Envelope> GetSecurityEventsAsync(int? limit = null, long? before = null, CancellationToken ct = default) =>
        RequestAsync(Actions.GetSecurityEvents, new SecurityEventsRequest { Limit = limit, Before = before }, ct: ct);

    /// <param name="status">online, busy, away or invisible.</param>
    public Task<Envelope> StatusUpdateAsync(string status, string? clientId = null, CancellationToken ct = default) =>
        RequestAsync(Actions.StatusUpdate, new StatusUpdateRequest { Status = status, ClientId = clientId }, ct: ct);
}
