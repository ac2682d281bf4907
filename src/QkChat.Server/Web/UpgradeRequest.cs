using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace QkChat.Server.Web;

/// <summary>What <see cref="UpgradeRequest.Parse"/> made of the first bytes of a connection.</summary>
internal enum UpgradeParse : byte
{
    /// <summary>A plain `GET /ws` WebSocket upgrade (RFC 6455 §4.1) this gateway can answer without the HTTP stack.</summary>
    Upgrade,

    /// <summary>The header block has not ended yet: read more.</summary>
    Incomplete,

    /// <summary>Anything else (another path, another method, a header we leave to Kestrel): the HTTP stack serves it.</summary>
    NotOurs,
}

/// <summary>
/// The first request of a connection to the web listener, read before Kestrel's HTTP layer sees it
/// (<see cref="WebSocketConnectionMiddleware"/>). Only the narrowest case is recognised: `GET /ws HTTP/1.1` with a
/// Host, `Upgrade: websocket`, `Connection` naming `upgrade`, a valid `Sec-WebSocket-Key`, version 13, no body, no
/// repeated or folded header and nothing but visible ASCII in values. Everything else is <see cref="UpgradeParse.NotOurs"/>
/// and goes to Kestrel, whose parser and <see cref="WebSocketGateway.HandleAsync"/> refuse or accept it as before: this
/// parser only has to be right about what it accepts, never about what it turns down.
/// </summary>
internal readonly struct UpgradeRequest
{
    /// <summary>Kestrel's default MaxRequestHeadersTotalSize (32 KiB): a longer header block goes to Kestrel, which refuses it.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    private static ReadOnlySpan<byte> HeaderEnd => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> Prefix => "GET /ws"u8;

    public UpgradeRequest(string host, string origin, byte[] key)
    {
        Host = host;
        Origin = origin;
        Key = key;
    }

    public string Host { get; }

    /// <summary>Empty when the request had no Origin (not a browser).</summary>
    public string Origin { get; }

    /// <summary>Sec-WebSocket-Key as sent (24 base64 characters).</summary>
    public byte[] Key { get; }

    /// <summary>
    /// Parses <paramref name="input"/>. On <see cref="UpgradeParse.Upgrade"/>, <paramref name="headerLength"/> is the
    /// length of the request through its blank line; bytes after it are the client's first WebSocket frames.
    /// </summary>
    public static UpgradeParse Parse(ReadOnlySequence<byte> input, out UpgradeRequest request, out long headerLength)
    {
        request = default;
        headerLength = 0;
        int prefix = (int)Math.Min(input.Length, Prefix.Length);
        Span<byte> start = stackalloc byte[Prefix.Length];
        input.Slice(0, prefix).CopyTo(start);
        if (!start[..prefix].SequenceEqual(Prefix[..prefix])) return UpgradeParse.NotOurs;
        var reader = new SequenceReader<byte>(input);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, HeaderEnd))
            return input.Length >= MaxHeaderBytes ? UpgradeParse.NotOurs : UpgradeParse.Incomplete;
        if (head.Length + HeaderEnd.Length > MaxHeaderBytes) return UpgradeParse.NotOurs;
        headerLength = head.Length + HeaderEnd.Length;
        if (head.IsSingleSegment) return ParseHead(head.FirstSpan, out request);
        byte[] rented = ArrayPool<byte>.Shared.Rent((int)head.Length);
        try
        {
            head.CopyTo(rented);
            return ParseHead(rented.AsSpan(0, (int)head.Length), out request);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static UpgradeParse ParseHead(ReadOnlySpan<byte> head, out UpgradeRequest request)
    {
        request = default;
        int lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        if (!requestLine.SequenceEqual("GET /ws HTTP/1.1"u8)) return UpgradeParse.NotOurs;
        string? host = null, origin = null;
        ReadOnlySpan<byte> key = default, version = default;
        bool upgrade = false, connectionUpgrade = false, seenUpgrade = false, seenConnection = false;
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon])) return UpgradeParse.NotOurs; // also obs-fold: a line starting with a space
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (!IsVisible(value)) return UpgradeParse.NotOurs;
            if (Is(name, "host")) { if (host is not null || !IsPlainHost(value)) return UpgradeParse.NotOurs; host = Encoding.ASCII.GetString(value); }
            else if (Is(name, "origin")) { if (origin is not null) return UpgradeParse.NotOurs; origin = Encoding.ASCII.GetString(value); }
            else if (Is(name, "sec-websocket-key")) { if (!key.IsEmpty) return UpgradeParse.NotOurs; key = value; }
            else if (Is(name, "sec-websocket-version")) { if (!version.IsEmpty) return UpgradeParse.NotOurs; version = value; }
            else if (Is(name, "upgrade"))
            {
                if (seenUpgrade) return UpgradeParse.NotOurs;
                seenUpgrade = true;
                upgrade = Ascii.EqualsIgnoreCase(value, "websocket"u8);
            }
            else if (Is(name, "connection"))
            {
                if (seenConnection) return UpgradeParse.NotOurs;
                seenConnection = true;
                connectionUpgrade = NamesUpgrade(value);
            }
            else if (Is(name, "content-length") || Is(name, "transfer-encoding")) return UpgradeParse.NotOurs; // a body: not an upgrade
        }
        if (host is null || !upgrade || !connectionUpgrade || !version.SequenceEqual("13"u8) || !WebSocketHandshake.IsValidKey(key)) return UpgradeParse.NotOurs;
        request = new UpgradeRequest(host, origin ?? "", key.ToArray());
        return UpgradeParse.Upgrade;
    }

    /// <summary>The 101 answer (RFC 6455 §4.2.2), its Sec-WebSocket-Accept from <see cref="WebSocketHandshake.WriteAccept"/>.</summary>
    public int WriteSwitchingProtocols(Span<byte> into)
    {
        var head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: "u8;
        head.CopyTo(into);
        int n = head.Length + WebSocketHandshake.WriteAccept(Key, into[head.Length..]);
        "\r\n\r\n"u8.CopyTo(into[n..]);
        return n + 4;
    }

    /// <summary>Room for <see cref="WriteSwitchingProtocols"/>.</summary>
    public const int SwitchingProtocolsBytes = 160;

    private static bool Is(ReadOnlySpan<byte> name, string expected) => Ascii.EqualsIgnoreCase(name, expected);

    private static bool NamesUpgrade(ReadOnlySpan<byte> value)
    {
        foreach (var range in value.Split((byte)','))
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), "upgrade"u8)) return true;
        return false;
    }

    /// <summary>
    /// A Host this parser is sure of: a name or IPv4 address of letters, digits, '-', '.', '_', '~', or a bracketed IPv6
    /// address, then an optional ":port" of digits. Anything else (empty, user info, percent-escapes, spaces, a path)
    /// goes to Kestrel, which answers 400 to a Host it finds invalid: the middleware answered 101 to "127.0.0.1 /x"
    /// (WebSocketHandshakePathTests).
    /// </summary>
    private static bool IsPlainHost(ReadOnlySpan<byte> host)
    {
        int end;
        if (host.StartsWith("["u8))
        {
            end = host.IndexOf((byte)']') + 1;
            if (end < 3 || host[1..(end - 1)].ContainsAnyExcept("0123456789abcdefABCDEF:."u8)) return false;
        }
        else
        {
            end = host.IndexOf((byte)':');
            if (end < 0) end = host.Length;
            if (end == 0 || host[..end].ContainsAnyExcept(HostNameBytes)) return false;
        }
        var port = host[end..];
        return port.IsEmpty || (port[0] == (byte)':' && port.Length is >= 2 and <= 6 && !port[1..].ContainsAnyExceptInRange((byte)'0', (byte)'9'));
    }

    private static readonly SearchValues<byte> HostNameBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"u8);

    // RFC 9110 §5.6.2 tchar.
    private static bool IsToken(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
            if (b <= 0x20 || b >= 0x7F || "\"(),/:;<=>?@[\\]{}"u8.Contains(b)) return false;
        return true;
    }

    private static bool IsVisible(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
            if ((b < 0x20 && b != (byte)'\t') || b >= 0x7F) return false;
        return true;
    }
}
