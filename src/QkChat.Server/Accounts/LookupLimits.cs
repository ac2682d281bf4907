using QkChat.Core.Accounts;
using QkChat.Core.Friends;

namespace QkChat.Server.Accounts;

/// <summary>
/// The per-minute budgets of the lookups that tell whether an account exists (account.availability_checks_per_min,
/// account.search_users_per_min). The option registry binds them here; the defaults and their reasons are the
/// services' own constants, which these initializers name rather than repeat.
/// </summary>
public sealed class LookupLimits
{
    public int AvailabilityChecksPerMinute { get; set; } = AvailabilityService.DefaultChecksPerMinute;
    public int SearchUsersPerMinute { get; set; } = FriendService.DefaultSearchesPerMinute;
}
