namespace QkChat.Transport;

/// <summary>What a codec found at the start of the buffered input.</summary>
public enum FrameDecodeStatus
{
    /// <summary>Not a whole message yet: keep the bytes and read more.</summary>
    Incomplete,

    /// <summary>A whole message: see <see cref="DecodedFrame"/> for where its body lies.</summary>
    Complete,

    /// <summary>A message declared empty: the connection cannot go on (protocol.md §1: BAD_FRAME, then close).</summary>
    Empty,

    /// <summary>A message declared longer than the maximum: known from the header alone, before any body byte is buffered.</summary>
    TooLarge,
}

/// <summary>Where a decoded message lies in the input.</summary>
/// <param name="BodyOffset">Start of the body (after the header).</param>
/// <param name="BodyLength">Bytes of the body.</param>
/// <param name="FrameLength">Bytes the whole frame takes (header, body and any trailer): what the connection consumes.</param>
/// <param name="DeclaredLength">The body length the header declared (reported with Empty and TooLarge).</param>
public readonly record struct DecodedFrame(int BodyOffset, int BodyLength, int FrameLength, long DeclaredLength);

/// <summary>Why a connection's input could not be split into messages (reported to the handler, then the connection closes).</summary>
public enum FrameError
{
    Empty,
    TooLarge,
}

/// <summary>
/// How one listener splits its byte stream into messages and frames outbound bodies: a 4-byte length prefix on TCP
/// and TLS (<see cref="LengthPrefixCodec"/>); a WebSocket listener would carry one JSON object per WebSocket message.
/// The codec sits between <see cref="Connection"/> and the handler, which sees whole bodies only. Implementations
/// are stateless and shared by every connection of their listener.
/// </summary>
public interface IFrameCodec
{
    /// <summary>The longest header <see cref="WriteHeader"/> writes; at most <see cref="OutboundFrame.Headroom"/>.</summary>
    int MaxHeaderBytes { get; }

    /// <summary>
    /// Finds the message at the start of <paramref name="input"/>. The span is the connection's own receive buffer, so a
    /// codec may rewrite the bytes of the frame it returns (a WebSocket codec unmasks in place). A declared length above
    /// <paramref name="maxBodyBytes"/> is reported from the header alone.
    /// </summary>
    FrameDecodeStatus Decode(Span<byte> input, int maxBodyBytes, out DecodedFrame frame);

    /// <summary>
    /// Writes the header of a <paramref name="bodyLength"/>-byte body so that it ends at the end of
    /// <paramref name="headroom"/> (the body follows it); returns the header's length. It depends on the length only,
    /// so a frame shared by many connections of the same codec is given its header once.
    /// </summary>
    int WriteHeader(Span<byte> headroom, int bodyLength);
}
