using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace QkChat.Core.Files;

/// <summary>An upload token's claims: which upload, whose, of what size, until when (Unix ms).</summary>
public readonly record struct UploadClaims(long UploadId, uint UserId, long Size, long ExpiresAt);

/// <summary>
/// Upload tokens and download URL signatures: HMAC-SHA256 under the server's secret (files.secret), so a node checks
/// them without a lookup and nobody can make one without the key. Each kind signs its own prefix ("u|" or "d|"),
/// so a download signature can never pass as an upload token. Comparison is constant-time.
/// </summary>
public sealed class SignedTokens
{
    private readonly byte[] _key;

    /// <param name="secret">files.secret; empty: 32 random bytes, valid until this process ends.</param>
    public SignedTokens(string secret) =>
        _key = secret.Length == 0 ? RandomNumberGenerator.GetBytes(32) : SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>`uploadId.userId.size.expiresAt.signature` (base64url): opaque to clients, sent as a bearer token.</summary>
    public string UploadToken(UploadClaims c)
    {
        string body = string.Create(CultureInfo.InvariantCulture, $"{c.UploadId}.{c.UserId}.{c.Size}.{c.ExpiresAt}");
        return body + "." + Sign("u|" + body);
    }

    /// <summary>The claims of a well-signed token that has not expired at <paramref name="now"/>; null otherwise.</summary>
    public UploadClaims? ReadUploadToken(string? token, long now)
    {
        if (token is null) return null;
        int last = token.LastIndexOf('.');
        if (last <= 0) return null;
        string body = token[..last];
        if (!Verify("u|" + body, token[(last + 1)..])) return null;
        var parts = body.Split('.');
        if (parts.Length != 4
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long upload)
            || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint user)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long size)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long expires))
            return null;
        return expires > now ? new UploadClaims(upload, user, size, expires) : null;
    }

    /// <summary>The signature of a download of <paramref name="fileId"/> valid until <paramref name="expiresAt"/>.</summary>
    public string DownloadSignature(long fileId, long expiresAt) =>
        Sign(string.Create(CultureInfo.InvariantCulture, $"d|{fileId}|{expiresAt}"));

    /// <summary>Whether a download URL's signature is right and unexpired at <paramref name="now"/>.</summary>
    public bool CheckDownload(long fileId, long expiresAt, string? signature, long now) =>
        signature is not null && expiresAt > now
        && Verify(string.Create(CultureInfo.InvariantCulture, $"d|{fileId}|{expiresAt}"), signature);

    private string Sign(string text) => Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text)));

    private bool Verify(string text, string signature)
    {
        var expected = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text));
        Span<byte> given = stackalloc byte[64];
        if (!TryFromBase64Url(signature, given, out int written) || written != expected.Length) return false;
        return CryptographicOperations.FixedTimeEquals(expected, given[..written]);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryFromBase64Url(string text, Span<byte> into, out int written)
    {
        written = 0;
        if (text.Length is 0 or > 86) return false;
        foreach (char c in text)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        string padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => "!" };
        return Convert.TryFromBase64String(padded, into, out written);
    }
}
