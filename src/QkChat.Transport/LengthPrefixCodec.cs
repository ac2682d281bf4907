using QkChat.Wire;

namespace QkChat.Transport;

/// <summary>
/// protocol.md §1 on TCP and TLS: a 4-byte unsigned big-endian body length, then the body. The header logic is
/// src/Shared/LengthPrefix.cs, the same source clients use through QkChat.Protocol's Framing.
/// </summary>
public sealed class LengthPrefixCodec : IFrameCodec
{
    public static readonly LengthPrefixCodec Instance = new();

    private LengthPrefixCodec()
    {
    }

    public int MaxHeaderBytes => LengthPrefix.HeaderSize;

    public FrameDecodeStatus Decode(Span<byte> input, int maxBodyBytes, out DecodedFrame frame)
    {
        var status = LengthPrefix.Read(input, maxBodyBytes, out uint declared);
        int body = status == LengthPrefixStatus.Complete ? (int)declared : 0;
        frame = new DecodedFrame(LengthPrefix.HeaderSize, body, LengthPrefix.HeaderSize + body, declared);
        return status switch
        {
            LengthPrefixStatus.Complete => FrameDecodeStatus.Complete,
            LengthPrefixStatus.Empty => FrameDecodeStatus.Empty,
            LengthPrefixStatus.TooLarge => FrameDecodeStatus.TooLarge,
            _ => FrameDecodeStatus.Incomplete,
        };
    }

    public int WriteHeader(Span<byte> headroom, int bodyLength)
    {
        LengthPrefix.Write(headroom[^LengthPrefix.HeaderSize..], bodyLength);
        return LengthPrefix.HeaderSize;
    }
}
