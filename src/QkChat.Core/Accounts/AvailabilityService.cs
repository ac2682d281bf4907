using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Accounts;

/// <summary>
/// check_username and check_email (protocol.md §7): a registration form asks while the user types. Allowed before
/// login. Order: field rules (INVALID_ARGUMENT, free), then the per-address budget (RATE_LIMITED with
/// retry_after_ms), then one indexed lookup. The budget is what keeps them from listing every account fast: at 60
/// a minute an address needs years to try a dictionary of names. A class of its own, beside AccountService, since
/// it shares none of its state; docs/protocol.md (Social extras).
/// </summary>
/// <param name="throttle">One budget per client address (its limit key), shared by both actions (protocol.md §8).</param>
public sealed class AvailabilityService(IUserStore users, IPerMinuteBudget throttle, ILogger logger)
{
    /// <summary>protocol.md §8 default; the server sets it from account.availability_checks_per_min.</summary>
    public const int DefaultChecksPerMinute = 60;

    /// <summary>Read per request, so a configuration reload may change it.</summary>
    public int ChecksPerMinute { get; set; } = DefaultChecksPerMinute;

    public void Register(ActionRouter router)
    {
        router.Register(Actions.CheckUsername, allowedBeforeLogin: true, CheckUsername);
        router.Register(Actions.CheckEmail, allowedBeforeLogin: true, CheckEmail);
    }

    private void CheckUsername(RequestContext ctx)
    {
        if (Parse(ctx, r => InputRules.Username(r.Username)) is not { } request) return;
        string username = request.Username!;
        Run(ctx, async () => await users.FindByUsernameOrEmailAsync(username, CancellationToken.None) is null);
    }

    private void CheckEmail(RequestContext ctx)
    {
        if (Parse(ctx, r => InputRules.Email(r.Email)) is not { } request) return;
        string email = InputRules.NormalizeEmail(request.Email);
        Run(ctx, async () => await users.FindByEmailAsync(email, CancellationToken.None) is null);
    }

    private static AccountRequest? Parse(RequestContext ctx, Func<AccountRequest, string?> rule) =>
        RequestFields.Parse(ctx, AccountRequest.Json, rule);

    private void Run(RequestContext ctx, Func<Task<bool>> isAvailable)
    {
        // IPv4 address or IPv6 prefix: a /64 is one client, not 2^64 budgets.
        string limitKey = ctx.Session.LimitKey;
        int perMinute = ChecksPerMinute;
        OffReactor.Run(ctx, logger, async pending =>
        {
            int retryAfterMs = await throttle.TakeAsync(limitKey, perMinute, CancellationToken.None);
            if (retryAfterMs > 0)
            {
                pending.Complete(ErrorCodes.RateLimited, "too many availability checks from this address; wait before checking again",
                    retryAfterMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                return;
            }
            bool available = await isAvailable();
            pending.Complete(ErrorCodes.Ok, available ? "available" : "taken", available,
                static (w, a) => w.WriteBoolean("available"u8, a));
        });
    }
}
