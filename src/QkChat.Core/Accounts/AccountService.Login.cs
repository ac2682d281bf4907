using System.Text.Json;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Accounts;

public sealed partial class AccountService
{
    private Task<string>? _dummyHash;

    /// <summary>
    /// A login for an unknown user still verifies against this hash, so timing does not tell users apart. Made once,
    /// on the password pool like every hash; null when the pool is full (the caller answers SERVER_BUSY anyway).
    /// </summary>
    private async Task<string?> DummyHashAsync()
    {
        var existing = Volatile.Read(ref _dummyHash);
        if (existing is null)
        {
            if (!_passwords.TryHash("qkchat-no-such-user-" + Guid.NewGuid(), out var hashing)) return null;
            existing = Interlocked.CompareExchange(ref _dummyHash, hashing, null) ?? hashing;
        }
        return await existing;
    }

    private static string? LoginRule(AccountRequest r) =>
        r.Username is null ? "username: required (a username or an e-mail)"
        : InputRules.IsEmailLike(r.Username) ? (InputRules.Email(r.Username) is null ? null : "username: not a valid e-mail address")
        : InputRules.Username(r.Username);

    /// <summary>Like Parse, and a connection that is already logged in is refused (one user per connection).</summary>
    private static AccountRequest? ParseSignIn(RequestContext ctx, params Func<AccountRequest, string?>[] rules)
    {
        var request = Parse(ctx, rules);
        if (request is null || !ctx.Session.LoggedIn) return request;
        ctx.Respond(ErrorCodes.Forbidden, "already logged in on this connection; log out first");
        return null;
    }

    private void Login(RequestContext ctx)
    {
        var request = ParseSignIn(ctx, LoginRule, r => InputRules.Password(r.Password, "password"),
            r => InputRules.ClientId(r.ClientId), r => InputRules.Device(r.Device));
        if (request is null) return;
        string ip = ctx.Session.RemoteAddress.ToString(), limitKey = ctx.Session.LimitKey;
        RunAsync(ctx, async pending =>
        {
            // The account is looked up first so that its budget is the user id's, whichever of its names was typed.
            var user = await _users.FindByUsernameOrEmailAsync(request.Username!, CancellationToken.None);
            string budget = user is null ? LoginBudgetKeys.ForUnknownLogin(request.Username!) : LoginBudgetKeys.ForUser(user.UserId);
            // Reserved before the hash (issue 16): a check now and a count after the hash let parallel guesses through.
            var reservation = await _throttle.ReserveAsync(budget, limitKey, CancellationToken.None);
            if (!reservation.Reserved)
            {
                pending.Complete(ErrorCodes.RateLimited, "too many failed logins; wait before trying again",
                    reservation.RetryAfterMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                return;
            }
            string? stored = user?.PasswordHash ?? await DummyHashAsync();
            if (stored is null || !_passwords.TryVerify(request.Password!, stored, out var verifying))
            {
                // Nothing was evaluated: the attempt goes back to both budgets.
                await _throttle.ReleaseAsync(budget, limitKey, passwordProved: false, CancellationToken.None);
                pending.Complete(ErrorCodes.ServerBusy, "the server is busy; retry shortly");
                return;
            }
            var check = await verifying;
            if (user is null || check == PasswordCheck.Mismatch)
            {
                // The reservation stays: it is this failure's count.
                LogLoginFailed(_logger, ip);
                // The reason class only: neither the password nor the name typed (it may be a password typed in the wrong box).
                Audit(AuditEvent.LoginFailed, user?.UserId, request.ClientId, request.Device, ip, false, user is null ? "unknown_user" : "wrong_password");
                if (reservation.TripIfFailed != LoginLimitTrip.None)
                    Audit(AuditEvent.RateLimited, user?.UserId, request.ClientId, request.Device, ip, false,
                        reservation.TripIfFailed == LoginLimitTrip.Account ? "login_account" : "login_ip");
                pending.Complete(ErrorCodes.InvalidCredentials, "wrong username or password");
                return;
            }
            await _throttle.ReleaseAsync(budget, limitKey, passwordProved: true, CancellationToken.None);
            if (check == PasswordCheck.MatchNeedsRehash) UpgradeHash(user.UserId, request.Password!);
            var device = await _sessions.CreateAsync(user, request.ClientId!, request.Device, ip, CancellationToken.None);
            LogLoggedIn(_logger, user.UserId);
            Audit(AuditEvent.Login, user.UserId, device.ClientId, request.Device, ip, true, "password");
            await CompleteSignInAsync(pending, new SignedInUser(user.UserId, user.Username, user.Email), device, request.Device);
        });
    }

    private void LoginToken(RequestContext ctx)
    {
        var request = ParseSignIn(ctx, r => r.Token is { Length: > 0 and <= 256 } ? null : "token: required",
            r => InputRules.ClientId(r.ClientId));
        if (request is null) return;
        string ip = ctx.Session.RemoteAddress.ToString();
        RunAsync(ctx, async pending =>
        {
            // The session cache holds the user's name and e-mail too: a resume is two Redis commands, no MariaDB read.
            var resumed = await _sessions.ResumeAsync(request.Token!, request.ClientId!, ip, CancellationToken.None);
            if (resumed is null)
            {
                Audit(AuditEvent.LoginFailed, null, request.ClientId, null, ip, false, "token_invalid");
                pending.Complete(ErrorCodes.TokenInvalid, "the token is expired, revoked or unknown; log in with the password");
                return;
            }
            Audit(AuditEvent.TokenResume, resumed.UserId, resumed.ClientId, null, ip, true);
            await CompleteSignInAsync(pending, new SignedInUser(resumed.UserId, resumed.Username, resumed.Email),
                new DeviceSession(resumed.UserId, resumed.ClientId, request.Token!, resumed.ExpiresAt), null);
        });
    }

    /// <summary>What a login answer shows of the user.</summary>
    private readonly record struct SignedInUser(uint UserId, string Username, string Email);

    /// <summary>
    /// Answers a login once the deployment knows the device is here (IDelivery.ClaimAsync: on several nodes, the device
    /// registry and the change notice are written first), so a message sent to the user after this answer, from any
    /// node, is pushed to the device (docs/cluster.md, "Staleness"); then SignIn on the reactor.
    /// </summary>
    private async Task CompleteSignInAsync(PendingResponse pending, SignedInUser user, DeviceSession device, string? label)
    {
        await Delivery.ClaimAsync(pending.Session, user.UserId, device.ClientId, label);
        pending.Complete(ErrorCodes.Ok, "logged in", (user, device), WriteSignIn,
            session => SignIn(session, user.UserId, device.ClientId, label));
    }

    private static readonly Action<Utf8JsonWriter, (SignedInUser User, DeviceSession Device)> WriteSignIn = static (w, s) =>
    {
        w.WriteNumber("user_id"u8, s.User.UserId);
        w.WriteString("username"u8, s.User.Username);
        w.WriteString("email"u8, s.User.Email);
        w.WriteString("token"u8, s.Device.Token);
        w.WriteNumber("token_expires_at"u8, s.Device.ExpiresAt);
        w.WriteNumber("server_time"u8, Now());
    };

    private void Logout(RequestContext ctx)
    {
        uint userId = ctx.Session.UserId;
        string clientId = ctx.Session.ClientId!;
        string? device = ctx.Session.Device;
        string ip = ctx.Session.RemoteAddress.ToString();
        RunAsync(ctx, async pending =>
        {
            await _sessions.RevokeAsync(userId, clientId, CancellationToken.None);
            Audit(AuditEvent.Logout, userId, clientId, device, ip, true);
            pending.Complete<object?>(ErrorCodes.Ok, "logged out", null, null, session =>
            {
                Delivery.Detach(session);
                session.LoggedIn = false;
                // Queued behind this callback, so the close follows the response instead of refusing it.
                session.CloseAfterAnswer();
            });
        });
    }

    /// <summary>Stores a hash with today's parameters after a login proved the password (best effort).</summary>
    private void UpgradeHash(uint userId, string password)
    {
        if (!_passwords.TryHash(password, out var hashing)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await _users.UpdatePasswordHashAsync(userId, await hashing, CancellationToken.None);
            }
            catch (BackendUnavailableException)
            {
                // The next login tries again.
            }
        });
    }
}
