namespace QkChat.Core.Dispatch;

/// <summary>
/// A fixed one-minute budget per key, shared by every node (Redis): check_username/check_email per client address,
/// search_users per user. Reconnecting or switching nodes does not reset it.
/// </summary>
public interface IPerMinuteBudget
{
    /// <summary>Counts one use for <paramref name="key"/>; returns 0 when it is within the budget, else the milliseconds until the window ends.</summary>
    Task<int> TakeAsync(string key, int perMinute, CancellationToken ct);
}
