using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Accounts;

public sealed partial class AccountService
{
    private void ResetPassword(RequestContext ctx)
    {
        var request = Parse(ctx, r => InputRules.Email(r.Email), r => InputRules.VerificationCode(r.VerificationCode),
            r => InputRules.Password(r.NewPassword, "new_password"));
        if (request is null) return;
        string ip = ctx.Session.RemoteAddress.ToString();
        RunAsync(ctx, async pending =>
        {
            string normalized = InputRules.NormalizeEmail(request.Email!);
            if (await CheckCodeAsync(pending, normalized, CodePurpose.ResetPassword, request.VerificationCode!, ip) is false) return;
            // A valid reset code exists only for a registered address (none is sent otherwise).
            var user = await _users.FindByEmailAsync(normalized, CancellationToken.None);
            if (user is null)
            {
                pending.Complete(ErrorCodes.InvalidCode, "verification_code: wrong code");
                return;
            }
            if (!_passwords.TryHash(request.NewPassword!, out var hashing))
            {
                pending.Complete(ErrorCodes.ServerBusy, "the server is busy; retry shortly");
                return;
            }
            await _users.UpdatePasswordHashAsync(user.UserId, await hashing, CancellationToken.None);
            var revoked = await _sessions.RevokeAllAsync(user.UserId, exceptClientId: null, CancellationToken.None);
            KickRevoked(user.UserId, revoked);
            LogPasswordReset(_logger, user.UserId, revoked.Count);
            Audit(AuditEvent.PasswordReset, user.UserId, null, null, ip, true);
            pending.Complete(ErrorCodes.Ok, "password reset; log in again on every device");
        });
    }

    private void ChangePassword(RequestContext ctx)
    {
        var request = Parse(ctx, r => InputRules.Password(r.OldPassword, "old_password"),
            r => InputRules.Password(r.NewPassword, "new_password"));
        if (request is null) return;
        uint userId = ctx.Session.UserId;
        string clientId = ctx.Session.ClientId!;
        string? device = ctx.Session.Device;
        string ip = ctx.Session.RemoteAddress.ToString(), limitKey = ctx.Session.LimitKey;
        RunAsync(ctx, async pending =>
        {
            // A token holder guessing the old password is a login guess: same budgets, same reservation (issue 16).
            string budget = LoginBudgetKeys.ForUser(userId);
            var reservation = await _throttle.ReserveAsync(budget, limitKey, CancellationToken.None);
            if (!reservation.Reserved)
            {
                pending.Complete(ErrorCodes.RateLimited, "too many wrong passwords; wait before trying again",
                    reservation.RetryAfterMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                return;
            }
            var user = await _users.FindByIdAsync(userId, CancellationToken.None);
            if (user is null || !_passwords.TryVerify(request.OldPassword!, user.PasswordHash, out var verifying))
            {
                await _throttle.ReleaseAsync(budget, limitKey, passwordProved: false, CancellationToken.None);
                pending.Complete(ErrorCodes.ServerBusy, "the server is busy; retry shortly");
                return;
            }
            if (await verifying == PasswordCheck.Mismatch)
            {
                Audit(AuditEvent.PasswordChanged, userId, clientId, device, ip, false, "wrong_password");
                if (reservation.TripIfFailed != LoginLimitTrip.None)
                    Audit(AuditEvent.RateLimited, userId, clientId, device, ip, false,
                        reservation.TripIfFailed == LoginLimitTrip.Account ? "login_account" : "login_ip");
                pending.Complete(ErrorCodes.InvalidCredentials, "old_password: wrong password");
                return;
            }
            await _throttle.ReleaseAsync(budget, limitKey, passwordProved: true, CancellationToken.None);
            if (!_passwords.TryHash(request.NewPassword!, out var hashing))
            {
                pending.Complete(ErrorCodes.ServerBusy, "the server is busy; retry shortly");
                return;
            }
            await _users.UpdatePasswordHashAsync(userId, await hashing, CancellationToken.None);
            var revoked = await _sessions.RevokeAllAsync(userId, exceptClientId: clientId, CancellationToken.None);
            KickRevoked(userId, revoked);
            LogPasswordChanged(_logger, userId, revoked.Count);
            Audit(AuditEvent.PasswordChanged, userId, clientId, device, ip, true);
            pending.Complete(ErrorCodes.Ok, "password changed; your other devices were logged out");
        });
    }
}
