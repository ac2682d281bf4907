namespace QkChat.Core.Messaging;

/// <summary>Field rules shared by the message actions (protocol.md §2, §5): each returns the problem or null.</summary>
public static class MessageFieldRules
{
    /// <summary>A user id field: a 9-digit number (protocol.md §2).</summary>
    public static string? UserId(long? value, string field) =>
        value is null ? field + ": required"
        : value is < 100_000_000 or > 999_999_999 ? field + ": a 9-digit user id"
        : null;

    /// <summary>A message id field: a positive integer below 2^53.</summary>
    public static string? MessageIdRule(long? value, string field, bool required = true) =>
        value is null ? (required ? field + ": required" : null)
        : value is <= 0 or >= 1L << 53 ? field + ": a positive integer below 2^53"
        : null;

    public static string? LimitRule(int? value, int max) =>
        value is null || (value >= 1 && value <= max) ? null : $"limit: 1-{max}";
}
