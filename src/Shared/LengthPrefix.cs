using System.Buffers.Binary;

namespace QkChat.Wire;

/// <summary>What the length prefix at the start of a buffer says.</summary>
internal enum LengthPrefixStatus
{
    /// <summary>Fewer bytes than the header or the declared body.</summary>
    Incomplete,

    /// <summary>A whole frame: the body is at [<see cref="LengthPrefix.HeaderSize"/>, + declared).</summary>
    Complete,

    /// <summary>Declared length 0.</summary>
    Empty,

    /// <summary>Declared length above the maximum; no body byte was needed to know it.</summary>
    TooLarge,
}

/// <summary>
/// The 4-byte unsigned big-endian length prefix of protocol.md §1. Compiled into both leaves, QkChat.Protocol
/// (<c>Framing</c>, for clients) and QkChat.Transport (<c>LengthPrefixCodec</c>, the server's listeners), which may
/// not reference each other: one source, so the two sides cannot drift apart.
/// </summary>
internal static class LengthPrefix
{
    public const int HeaderSize = 4;

    /// <summary>Reads the header at the start of <paramref name="buffer"/>; the declared length is checked before any body byte is needed.</summary>
    public static LengthPrefixStatus Read(ReadOnlySpan<byte> buffer, int maxBodyBytes, out uint declared)
    {
        declared = 0;
        if (buffer.Length < HeaderSize) return LengthPrefixStatus.Incomplete;
        declared = BinaryPrimitives.ReadUInt32BigEndian(buffer);
        if (declared == 0) return LengthPrefixStatus.Empty;
        if (declared > (uint)maxBodyBytes) return LengthPrefixStatus.TooLarge;
        return (uint)(buffer.Length - HeaderSize) >= declared ? LengthPrefixStatus.Complete : LengthPrefixStatus.Incomplete;
    }

    /// <summary>Writes the header for a body of <paramref name="bodyLength"/> bytes into the first 4 bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, int bodyLength) =>
        BinaryPrimitives.WriteUInt32BigEndian(destination, checked((uint)bodyLength));
}
