using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace QkChat.Server.Web;

/// <summary>
/// The RFC 6455 handshake rules both ways in to `/ws` apply (docs/web.md, "Two ways in"): the connection middleware's
/// own reading of a first request (<see cref="UpgradeRequest"/>) and Kestrel's route (<see cref="WebSocketGateway"/>).
/// One place each for the key check, the accept key and the Origin decision, so the two paths cannot drift apart
/// (WebSocketHandshakePathTests drives both with the same requests).
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>Sec-WebSocket-Key is base64 of 16 bytes (RFC 6455 §4.1): 24 characters.</summary>
    public const int KeyLength = 24;

    /// <summary>Sec-WebSocket-Accept is base64 of a SHA-1 hash (20 bytes): 28 characters.</summary>
    public const int AcceptLength = 28;

    // RFC 6455 §1.3: the GUID appended to the client's key.
    private static ReadOnlySpan<byte> AcceptGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>Whether <paramref name="key"/> (as sent, trimmed) is base64 of exactly 16 bytes.</summary>
    public static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        Span<byte> raw = stackalloc byte[18];
        return key.Length == KeyLength && Base64.DecodeFromUtf8(key, raw, out _, out int n) == OperationStatus.Done && n == 16;
    }

    /// <inheritdoc cref="IsValidKey(ReadOnlySpan{byte})"/>
    public static bool IsValidKey(string key)
    {
        if (key.Length != KeyLength || !Ascii.IsValid(key)) return false;
        Span<byte> bytes = stackalloc byte[KeyLength];
        Encoding.ASCII.GetBytes(key, bytes);
        return IsValidKey(bytes);
    }

    /// <summary>Writes Sec-WebSocket-Accept for a valid <paramref name="key"/>: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2); returns <see cref="AcceptLength"/>.</summary>
    public static int WriteAccept(ReadOnlySpan<byte> key, Span<byte> into)
    {
        Span<byte> joined = stackalloc byte[KeyLength + AcceptGuid.Length];
        key.CopyTo(joined);
        AcceptGuid.CopyTo(joined[key.Length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(joined[..(key.Length + AcceptGuid.Length)], hash);
        Base64.EncodeToUtf8(hash, into, out _, out int written);
        return written;
    }

    /// <inheritdoc cref="WriteAccept"/>
    public static string Accept(string key)
    {
        Span<byte> bytes = stackalloc byte[KeyLength];
        int n = Encoding.ASCII.GetBytes(key, bytes);
        Span<byte> accept = stackalloc byte[AcceptLength];
        return Encoding.ASCII.GetString(accept[..WriteAccept(bytes[..n], accept)]);
    }

    /// <summary>
    /// Whether a page of <paramref name="origin"/> may open `/ws` on a request that arrived over <paramref name="scheme"/>
    /// with Host <paramref name="host"/>: no Origin (not a browser) is let in, otherwise <see cref="OriginPolicy"/> decides.
    /// </summary>
    public static bool OriginAllowed(OriginPolicy policy, string origin, string scheme, string host) =>
        origin.Length == 0 || policy.Allows(origin, scheme, host);
}
