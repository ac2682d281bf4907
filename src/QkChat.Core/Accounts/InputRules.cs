using QkChat.Protocol;

namespace QkChat.Core.Accounts;

/// <summary>
/// The field rules of protocol.md §5 (Accounts). Each check returns null when the value is valid, or the
/// INVALID_ARGUMENT message, which starts with the field name (protocol.md §2). Checks never throw (null
/// included), never allocate on success, and look only at the value: the same input always gets the same answer.
/// What each rule accepts, and why, is in docs/passwords.md ("Input rules").
/// </summary>
public static class InputRules
{
    // protocol.md §5 register: username 3-32.
    public const int UsernameMinLength = 3;
    public const int UsernameMaxLength = 32;

    // RFC 5321 §4.5.3.1: a path holds at most 256 octets including the angle brackets, so an address at most 254;
    // the local part at most 64 octets; RFC 1035 §2.3.4: a label at most 63, a domain name at most 253 in text.
    public const int EmailMaxLength = 254;
    public const int EmailLocalMaxLength = 64;
    private const int DomainMaxLength = 253;
    private const int LabelMaxLength = 63;

    // protocol.md §5 register: password 8-128 chars, counted as UTF-16 units, as a JavaScript client counts them.
    public const int PasswordMinLength = 8;
    public const int PasswordMaxLength = 128;

    // protocol.md §5 send_verification_code: a 6-digit code.
    public const int VerificationCodeLength = 6;

    // protocol.md §4: client_id at most 64 chars. The device label has no limit there; it is shown in get_sessions
    // next to client_id, so it gets the same bound.
    public const int ClientIdMaxLength = 64;
    public const int DeviceMaxLength = 64;

    private const string UsernameRule = "username: 3 to 32 letters, digits or _, not all digits";
    private const string EmailRequired = "email: required";
    private const string EmailTooLong = "email: at most 254 characters";
    private const string EmailInvalid = "email: not a valid e-mail address (name@example.com; ASCII only)";
    private const string CodeRule = "verification_code: exactly 6 digits";
    private const string ClientIdRule = "client_id: 1 to 64 characters, no control characters";
    private const string DeviceRule = "device: at most 64 characters, no control characters";
    private const string CodeTypeRule = "type: register or reset_password";

    public static string? Username(string? value)
    {
        if (value is null) return "username: required";
        if (value.Length is < UsernameMinLength or > UsernameMaxLength) return UsernameRule;
        bool allDigits = true;
        foreach (char c in value)
        {
            if (char.IsAsciiDigit(c)) continue;
            // An all-digit name could be mistaken for a 9-digit user_id, hence the extra rule.
            allDigits = false;
            if (!char.IsAsciiLetter(c) && c != '_') return UsernameRule;
        }
        return allDigits ? UsernameRule : null;
    }

    /// <summary>
    /// A practical check, not RFC 5322 in full: local@domain, the local part a dot-atom of ASCII letters, digits and
    /// <c>!#$%&amp;'*+-/=?^_`{|}~</c>, the domain two or more DNS labels of letters, digits and inner hyphens, the
    /// last not all digits. Quoted local parts, comments, IP literals and non-ASCII (SMTPUTF8) are refused: few
    /// real addresses use them and a relay need not accept them. International domains go in their xn-- form.
    /// </summary>
    public static string? Email(string? value)
    {
        if (string.IsNullOrEmpty(value)) return EmailRequired;
        if (value.Length > EmailMaxLength) return EmailTooLong;
        int at = value.IndexOf('@');
        if (at <= 0 || at > EmailLocalMaxLength || at == value.Length - 1) return EmailInvalid;
        return IsDotAtom(value.AsSpan(0, at)) && IsDomain(value.AsSpan(at + 1)) ? null : EmailInvalid;
    }

    /// <summary>
    /// The key under which an address is compared and stored unique (protocol.md: unique ignoring case): trimmed
    /// and lower-cased with invariant rules. Keep the address as typed for display and for sending mail. Returns
    /// the same instance when nothing changes; null becomes "".
    /// </summary>
    public static string NormalizeEmail(string? value)
    {
        if (value is null) return "";
        var trimmed = value.AsSpan().Trim();
        bool hasUpper = false;
        foreach (char c in trimmed)
        {
            if (char.ToLowerInvariant(c) != c)
            {
                hasUpper = true;
                break;
            }
        }
        if (!hasUpper) return trimmed.Length == value.Length ? value : trimmed.ToString();
        // Char by char, exactly as the check above, so the two can never disagree about what changes.
        return string.Create(trimmed.Length, value, static (dest, source) =>
        {
            var from = source.AsSpan().Trim();
            for (int i = 0; i < from.Length; i++) dest[i] = char.ToLowerInvariant(from[i]);
        });
    }

    /// <summary>
    /// login's username field holds a username or an e-mail (protocol.md §5). A username can never contain '@',
    /// so any '@' means the client meant an e-mail; Email then decides whether it is a valid one.
    /// </summary>
    public static bool IsEmailLike(string? value) => value is not null && value.Contains('@');

    /// <summary>
    /// 8 to 128 UTF-16 units; anything else allowed (spaces, any script, emoji), except NUL and broken surrogate
    /// pairs: NUL cuts C-string based tools short, and a lone surrogate has no UTF-8 form, so two different
    /// passwords would hash the same. No Unicode normalization: the hash sees the UTF-8 of exactly what was sent.
    /// </summary>
    /// <param name="fieldName">password, new_password or old_password: the message names it.</param>
    public static string? Password(string? value, string fieldName)
    {
        if (value is null) return PasswordMessage(fieldName, required: true);
        if (value.Length is < PasswordMinLength or > PasswordMaxLength) return PasswordMessage(fieldName, required: false);
        if (value.Contains('\0') || !IsWellFormedUtf16(value)) return PasswordMessage(fieldName, required: false);
        return null;
    }

    public static string? VerificationCode(string? value)
    {
        if (value is null || value.Length != VerificationCodeLength) return CodeRule;
        foreach (char c in value)
        {
            if (!char.IsAsciiDigit(c)) return CodeRule;
        }
        return null;
    }

    public static string? ClientId(string? value)
    {
        if (value is null) return "client_id: required";
        return value.Length is >= 1 and <= ClientIdMaxLength && IsPrintable(value) ? null : ClientIdRule;
    }

    /// <summary>The optional device label: absent (null) and "" are both fine.</summary>
    public static string? Device(string? value) =>
        value is null || (value.Length <= DeviceMaxLength && IsPrintable(value)) ? null : DeviceRule;

    public static string? CodeType(string? value) =>
        value is VerificationCodeTypes.Register or VerificationCodeTypes.ResetPassword ? null : CodeTypeRule;

    private static string PasswordMessage(string fieldName, bool required)
    {
        // The three field names the protocol uses get constant strings, so a rejection allocates nothing.
        return (fieldName, required) switch
        {
            ("password", true) => "password: required",
            ("password", false) => "password: 8 to 128 characters, no NUL",
            ("new_password", true) => "new_password: required",
            ("new_password", false) => "new_password: 8 to 128 characters, no NUL",
            ("old_password", true) => "old_password: required",
            ("old_password", false) => "old_password: 8 to 128 characters, no NUL",
            (_, true) => (fieldName ?? "password") + ": required",
            _ => (fieldName ?? "password") + ": 8 to 128 characters, no NUL",
        };
    }

    private static bool IsDotAtom(ReadOnlySpan<char> local)
    {
        if (local.IsEmpty || local[0] == '.' || local[^1] == '.') return false;
        char previous = '\0';
        foreach (char c in local)
        {
            if (c == '.' ? previous == '.' : !IsAtext(c)) return false;
            previous = c;
        }
        return true;
    }

    // RFC 5322 §3.2.3 atext.
    private static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || (c < 128 && "!#$%&'*+-/=?^_`{|}~".Contains(c));

    private static bool IsDomain(ReadOnlySpan<char> domain)
    {
        if (domain.Length > DomainMaxLength) return false;
        int labels = 0;
        while (true)
        {
            int dot = domain.IndexOf('.');
            var label = dot < 0 ? domain : domain[..dot];
            if (!IsLabel(label)) return false;
            labels++;
            if (dot < 0)
            {
                // A last label of digits only is an IP address written without brackets, not a top-level domain.
                return labels >= 2 && !IsAllDigits(label);
            }
            domain = domain[(dot + 1)..];
        }
    }

    // A loop, not ContainsAnyExceptInRange: that one allocates 96 bytes a call on .NET 10 (measured here).
    private static bool IsAllDigits(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return true;
    }

    // RFC 1123 §2.1 host name label: letters, digits and hyphens, not starting or ending with a hyphen.
    private static bool IsLabel(ReadOnlySpan<char> label)
    {
        if (label.IsEmpty || label.Length > LabelMaxLength || label[0] == '-' || label[^1] == '-') return false;
        foreach (char c in label)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-') return false;
        }
        return true;
    }

    // Control characters would corrupt logs and session lists; a lone surrogate cannot be written back as UTF-8.
    private static bool IsPrintable(string value)
    {
        foreach (char c in value)
        {
            if (char.IsControl(c)) return false;
        }
        return IsWellFormedUtf16(value);
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
