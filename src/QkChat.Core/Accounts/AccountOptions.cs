namespace QkChat.Core.Accounts;

/// <summary>
/// Account rules that are configuration. The defaults written here are the server's defaults: qkchatd's option
/// registry binds account.token_lifetime_days to <see cref="TokenLifetime"/> (docs/configuration.md has its risk).
/// </summary>
public sealed class AccountOptions
{
    /// <summary>protocol.md §5: a code is valid 5 minutes.</summary>
    public TimeSpan CodeValidity { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sliding token lifetime: each resume moves the expiry this far ahead.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The accounts' own copy: a reload changes it, not the configuration it came from.</summary>
    public AccountOptions Copy() => (AccountOptions)MemberwiseClone();
}

/// <summary>
/// Failed-password budgets per account and per client address (protocol.md §5 login, docs/accounts.md). An attempt is
/// reserved before the password is hashed, atomically against both budgets, so parallel guesses cannot all pass a
/// check made before any of them failed: a wrong password keeps its reservation (it is the failure's count), a right
/// one gives it back. login and change_password's old_password draw on the same budgets.
/// </summary>
public interface ILoginThrottle
{
    /// <summary>Takes one attempt from both budgets, or none when either is spent (then RetryAfterMs &gt; 0).</summary>
    /// <param name="accountKey">The account's budget: <see cref="LoginBudgetKeys.ForUser"/> or, for a name with no account, <see cref="LoginBudgetKeys.ForUnknownLogin"/>.</param>
    /// <param name="addressKey">The client's limit key (Session.LimitKey: the IPv4 address or the IPv6 prefix).</param>
    Task<LoginReservation> ReserveAsync(string accountKey, string addressKey, CancellationToken ct);

    /// <summary>
    /// Gives a reservation back. <paramref name="passwordProved"/>: the password was right, so the account's failures
    /// are forgotten too (the rule since issue 11); otherwise (the password was never checked: the hashing pool was
    /// full) only this attempt is returned.
    /// </summary>
    Task ReleaseAsync(string accountKey, string addressKey, bool passwordProved, CancellationToken ct);
}

/// <summary>The outcome of <see cref="ILoginThrottle.ReserveAsync"/>.</summary>
/// <param name="RetryAfterMs">0 when reserved; otherwise the milliseconds until the spent budget's window ends.</param>
/// <param name="TripIfFailed">The limit this attempt reaches if its password turns out wrong (audited once, then).</param>
public readonly record struct LoginReservation(int RetryAfterMs, LoginLimitTrip TripIfFailed)
{
    public bool Reserved => RetryAfterMs == 0;
}

/// <summary>
/// The account budget's key: per user id, so a username and an e-mail of one account share one budget; a login
/// that names no account gets a budget of its own (normalized), so unknown names are evaluated alike.
/// </summary>
public static class LoginBudgetKeys
{
    public static string ForUser(uint userId) => "user:" + userId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string ForUnknownLogin(string login) =>
        "name:" + (InputRules.IsEmailLike(login) ? InputRules.NormalizeEmail(login) : login.ToLowerInvariant());
}

/// <summary>Which failed-login limit a failure reached (issue 11: each trip is one `rate_limited` audit event).</summary>
public enum LoginLimitTrip
{
    None,
    Account,
    Ip,
}
