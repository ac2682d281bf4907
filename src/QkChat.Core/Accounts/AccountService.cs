using Microsoft.Extensions.Logging;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Accounts;

/// <summary>
/// The account actions of protocol.md §5. Each handler checks its fields on the reactor, then continues off it
/// (database, Redis, password hashing) and answers through a <see cref="PendingResponse"/>, so responses keep
/// request order and no reactor ever waits. Split by concern: registration, login, password changes.
/// </summary>
public sealed partial class AccountService
{
    private readonly AccountOptions _options;
    private readonly IUserStore _users;
    private readonly ISessionStore _sessions;
    private readonly IVerificationCodes _codes;
    private readonly ILoginThrottle _throttle;
    private readonly IMailer _mailer;
    private readonly PasswordWorkPool _passwords;
    private readonly ILogger _logger;
    private readonly IAuditLog _audit;
    private Dispatcher? _dispatcher;

    public AccountService(AccountOptions options, IUserStore users, ISessionStore sessions, IVerificationCodes codes,
        ILoginThrottle throttle, IMailer mailer, PasswordWorkPool passwords, IDelivery delivery, ILogger logger,
        IAuditLog? audit = null)
    {
        _options = options;
        _users = users;
        _sessions = sessions;
        _codes = codes;
        _throttle = throttle;
        _mailer = mailer;
        _passwords = passwords;
        Delivery = delivery;
        _logger = logger;
        _audit = audit ?? NullAuditLog.Instance;
    }

    public IDelivery Delivery { get; }

    public void Register(ActionRouter router, Dispatcher dispatcher)
    {
        router.Register(Actions.SendVerificationCode, allowedBeforeLogin: true, SendVerificationCode);
        router.Register(Actions.Register, allowedBeforeLogin: true, RegisterUser);
        router.Register(Actions.Login, allowedBeforeLogin: true, Login);
        router.Register(Actions.LoginToken, allowedBeforeLogin: true, LoginToken);
        router.Register(Actions.Logout, allowedBeforeLogin: false, Logout);
        router.Register(Actions.ResetPassword, allowedBeforeLogin: true, ResetPassword);
        router.Register(Actions.ChangePassword, allowedBeforeLogin: false, ChangePassword);
        router.Register(Actions.GetSessions, allowedBeforeLogin: false, GetSessions);
        router.Register(Actions.RevokeSession, allowedBeforeLogin: false, RevokeSession);
        dispatcher.SessionClosed += OnSessionClosed;
        _dispatcher = dispatcher;
    }

    private void OnSessionClosed(Session session)
    {
        if (session.LoggedIn) Delivery.Detach(session);
    }

    private static AccountRequest? Parse(RequestContext ctx, params ReadOnlySpan<Func<AccountRequest, string?>> rules) =>
        RequestFields.Parse(ctx, AccountRequest.Json, rules);

    /// <summary>Runs <paramref name="work"/> off the reactor; OffReactor answers UNAVAILABLE or INTERNAL if it throws.</summary>
    private void RunAsync(RequestContext ctx, Func<PendingResponse, Task> work) => OffReactor.Run(ctx, _logger, work);

    /// <summary>On the reactor: marks the session logged in and takes over the device from an older session.</summary>
    private void SignIn(Session session, uint userId, string clientId, string? device)
    {
        session.LoggedIn = true;
        session.UserId = userId;
        session.ClientId = clientId;
        session.Device = device;
        // The port kicks the session that held the device before (`same_device`).
        if (Delivery.Attach(session) is { } previous)
        {
            // The row is about the connection that was pushed out: its address, this device.
            Audit(AuditEvent.Kicked, userId, clientId, device, previous.RemoteAddress.ToString(), true, "same_device");
        }
        // Queued behind the callback that writes the login response, so what features push follows it.
        _dispatcher!.NotifySignedIn(session);
    }

    /// <summary>Cuts the live connections of revoked devices (protocol.md §8).</summary>
    private void KickRevoked(uint userId, IReadOnlyList<string> clientIds)
    {
        foreach (string clientId in clientIds) Delivery.Kick(userId, clientId, "revoked");
    }

    /// <summary>One audit row (never blocks: a full audit log counts the event as dropped). Never pass a secret.</summary>
    private void Audit(AuditEvent e, uint? userId, string? clientId, string? device, string? ip, bool ok, string? detail = null) =>
        _audit.Record(new AuditRecord(e, userId, clientId, device, ip, ok, detail));

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
