using System.Text.Json;
using QkChat.Core.Accounts;

namespace QkChat.Core.Friends;

public enum TargetKind
{
    UserId,
    Username,
    Email,
}

/// <summary>Whom a friend_request names: a user id, a username, or an e-mail (already normalized for comparison).</summary>
public readonly record struct FriendTarget(TargetKind Kind, uint UserId, string? Text);

/// <summary>What a search_users query may match; a null part is not searched.</summary>
public sealed record UserSearch(uint? ExactId, string? Email, string? UsernamePrefix);

/// <summary>
/// The field rules of protocol.md §5 (Users and friends). Like <see cref="InputRules"/>, each check returns null
/// when the value is valid, or the INVALID_ARGUMENT message, which starts with the field name. Pure, so that
/// unit tests cover them without a server.
/// </summary>
public static partial class FriendRules
{
    // protocol.md §2: user ids are 9-digit numbers.
    public const uint MinUserId = 100_000_000, MaxUserId = 999_999_999;

    // protocol.md §2: request ids are positive and below 2^53.
    public const long MaxRequestId = (1L << 53) - 1;

    public const int MessageMaxLength = 200;
    public const int SearchDefaultLimit = 20, SearchMaxLimit = 50;

    // An e-mail is the longest thing a query can usefully hold (InputRules.EmailMaxLength).
    public const int QueryMaxLength = InputRules.EmailMaxLength;

    /// <summary>
    /// user_identifier: a JSON number is a user id; a string of digits is a user id (usernames cannot be all
    /// digits), one with '@' an e-mail, anything else a username. Each form must pass its own rule.
    /// </summary>
    public static string? Identifier(JsonElement? value, out FriendTarget target)
    {
        target = default;
        if (value is not { } element || element.ValueKind == JsonValueKind.Null) return "user_identifier: required";
        if (element.ValueKind == JsonValueKind.Number)
        {
            if (!element.TryGetInt64(out long number) || !IsUserId(number)) return "user_identifier: a user_id is a 9-digit number";
            target = new FriendTarget(TargetKind.UserId, (uint)number, null);
            return null;
        }
        if (element.ValueKind != JsonValueKind.String) return "user_identifier: a string or a number";
        string text = element.GetString()!.Trim();
        if (text.Length == 0) return "user_identifier: required";
        if (IsAllDigits(text))
        {
            if (text.Length != 9 || !uint.TryParse(text, out uint id) || !IsUserId(id)) return "user_identifier: a user_id is 9 digits";
            target = new FriendTarget(TargetKind.UserId, id, null);
            return null;
        }
        if (InputRules.IsEmailLike(text))
        {
            if (InputRules.Email(text) is not null) return "user_identifier: not a valid e-mail address";
            target = new FriendTarget(TargetKind.Email, 0, InputRules.NormalizeEmail(text));
            return null;
        }
        if (InputRules.Username(text) is not null) return "user_identifier: not a valid username, e-mail or user_id";
        target = new FriendTarget(TargetKind.Username, 0, text);
        return null;
    }

    /// <summary>
    /// The optional friend request message: at most 200 UTF-16 units, as a JavaScript client counts them; control
    /// characters other than line breaks and tabs are refused (they would be escaped to six bytes each and
    /// garble the receiver's display).
    /// </summary>
    public static string? Message(string? value)
    {
        if (value is null) return null;
        if (value.Length > MessageMaxLength) return "message: at most 200 characters";
        foreach (char c in value)
        {
            if (char.IsControl(c) && c is not ('\n' or '\r' or '\t')) return "message: no control characters";
        }
        return IsWellFormedUtf16(value) ? null : "message: not valid text";
    }

    /// <summary>search_users' query: trimmed, 1 to 254 characters; decides which of the three matches apply.</summary>
    public static string? Query(string? value, out UserSearch search)
    {
        search = new UserSearch(null, null, null);
        string text = value?.Trim() ?? "";
        if (text.Length == 0) return "query: required";
        if (text.Length > QueryMaxLength) return "query: at most 254 characters";
        uint? id = text.Length == 9 && uint.TryParse(text, out uint parsed) && IsUserId(parsed) && IsAllDigits(text) ? parsed : null;
        string? email = InputRules.IsEmailLike(text) && InputRules.Email(text) is null ? InputRules.NormalizeEmail(text) : null;
        // Only characters a username can hold can start one: anything else cannot match, so it is not searched.
        string? prefix = text.Length <= InputRules.UsernameMaxLength && IsUsernameChars(text) ? text : null;
        search = new UserSearch(id, email, prefix);
        return null;
    }

    public static string? Limit(int? value, out int limit)
    {
        limit = value ?? SearchDefaultLimit;
        return limit is >= 1 and <= SearchMaxLimit ? null : "limit: 1 to 50";
    }

    public static string? RequestId(long? value, out ulong id)
    {
        id = 0;
        if (value is not { } v) return "friend_request_id: required";
        if (v is < 1 or > MaxRequestId) return "friend_request_id: a positive integer below 2^53";
        id = (ulong)v;
        return null;
    }

    /// <param name="field">The field name for the message (friend_id).</param>
    public static string? UserId(long? value, string field, out uint id)
    {
        id = 0;
        if (value is not { } v) return field + ": required";
        if (!IsUserId(v)) return field + ": a 9-digit user_id";
        id = (uint)v;
        return null;
    }

    public static bool IsUserId(long value) => value is >= MinUserId and <= MaxUserId;

    /// <summary>
    /// A LIKE pattern (with <c>ESCAPE '!'</c>) matching values that start with <paramref name="prefix"/>: '!', '%'
    /// and '_' are escaped, since '_' is a legal username character and would otherwise match any character. '!'
    /// rather than '\\' as the escape, so that the pattern means the same whatever the server's sql_mode.
    /// </summary>
    public static string LikePrefix(string prefix) =>
        prefix.Replace("!", "!!", StringComparison.Ordinal).Replace("%", "!%", StringComparison.Ordinal)
            .Replace("_", "!_", StringComparison.Ordinal) + "%";

    private static bool IsAllDigits(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return true;
    }

    private static bool IsUsernameChars(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        }
        return true;
    }

    private static bool IsWellFormedUtf16(string value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (!char.IsSurrogate(c)) continue;
            if (!char.IsHighSurrogate(c) || i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])) return false;
            i++;
        }
        return true;
    }
}
