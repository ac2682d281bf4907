using QkChat.Wire;

namespace QkChat.Protocol;

/// <summary>What the frame decoder found at the start of a buffer.</summary>
public enum FrameStatus
{
    /// <summary>Fewer bytes than the header or the declared body: keep them and read more.</summary>
    Incomplete,

    /// <summary>A whole frame: the body is at [4, 4 + length).</summary>
    Complete,

    /// <summary>Declared length 0 (protocol.md §1: BAD_FRAME, then close).</summary>
    Empty,

    /// <summary>Declared length above the maximum (FRAME_TOO_LARGE, then close, body never read).</summary>
    TooLarge,
}

/// <summary>
/// Length-prefixed framing of protocol.md §1: a 4-byte unsigned big-endian body length, then the body.
/// Pure functions over spans: no buffering, no allocation; the caller keeps partial frames.
/// </summary>
public static class Framing
{
    public const int HeaderSize = LengthPrefix.HeaderSize;

    /// <summary>The protocol's default maximum body size (configurable on the server).</summary>
    public const int DefaultMaxFrameBytes = 65_536;

    /// <summary>Decodes the frame at the start of <paramref name="buffer"/>; the declared length is checked before any body byte is needed.</summary>
    public static FrameStatus TryDecode(ReadOnlySpan<byte> buffer, int maxFrameBytes, out int bodyLength)
    {
        var status = LengthPrefix.Read(buffer, maxFrameBytes, out uint declared);
        bodyLength = status == LengthPrefixStatus.Empty || status == LengthPrefixStatus.TooLarge ? 0 : (int)declared;
        return status switch
        {
            LengthPrefixStatus.Complete => FrameStatus.Complete,
            LengthPrefixStatus.Empty => FrameStatus.Empty,
            LengthPrefixStatus.TooLarge => FrameStatus.TooLarge,
            _ => FrameStatus.Incomplete,
        };
    }

    /// <summary>Writes the header for a body of <paramref name="bodyLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, int bodyLength) => LengthPrefix.Write(destination, bodyLength);

    /// <summary>A whole frame (header + body) as a new array: for clients and tests, not the server's hot path.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> body)
    {
        var frame = new byte[HeaderSize + body.Length];
        WriteHeader(frame, body.Length);
        body.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }
}
