namespace QkChat.Server.Web;

/// <summary>
/// Which pages may open `/ws` (http.allowed_origins, protocol.md §11): a list of exact origins, `*` for any, or, when
/// empty, the listener's own origin (the request's scheme and Host: the page the listener itself served). Origins
/// compare ignoring case (RFC 6454 serializes scheme and host in lower case; browsers do). A request without Origin
/// comes from a non-browser client, which no other site can drive, and is let through.
/// </summary>
public sealed class OriginPolicy
{
    private readonly HashSet<string> _allowed;
    private readonly bool _any;

    private OriginPolicy(HashSet<string> allowed, bool any)
    {
        _allowed = allowed;
        _any = any;
    }

    public static OriginPolicy Parse(string setting)
    {
        var allowed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool any = false;
        foreach (string part in setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "*") any = true;
            else allowed.Add(part.TrimEnd('/'));
        }
        return new OriginPolicy(allowed, any);
    }

    /// <summary>Null when <paramref name="setting"/> is well formed; otherwise what is expected.</summary>
    public static string? Check(string setting)
    {
        foreach (string part in setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "*") continue;
            string trimmed = part.TrimEnd('/');
            if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")
                || !trimmed.Equals(uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
                return "a comma-separated list of origins such as https://chat.example.org or http://localhost:8081, or *";
        }
        return null;
    }

    public bool Allows(string origin, string scheme, string host)
    {
        if (_any) return true;
        if (_allowed.Count > 0) return _allowed.Contains(origin);
        return origin.Equals(scheme + "://" + host, StringComparison.OrdinalIgnoreCase);
    }
}
