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

    /// <summary>
    /// A control message of the framing itself (WebSocket ping, pong, close): consumed by the connection, which sends
    /// the codec's answer (<see cref="IFrameCodec.AnswerControl"/>); the handler never sees it.
    /// </summary>
    Control,

    /// <summary>A message of a kind the protocol does not carry (a WebSocket binary message, protocol.md §11).</summary>
    Unsupported,

    /// <summary>Input that breaks the framing's own rules (an unmasked or reserved-bit WebSocket frame).</summary>
    Invalid,
}

/// <summary>What a message or an outbound frame is to the framing: chat bodies are Text; the rest are WebSocket control frames.</summary>
public enum FrameKind : byte
{
    Text,
    Ping,
    Pong,
    Close,
}

/// <summary>Where a decoded message lies in the input.</summary>
/// <param name="BodyOffset">Start of the body (after the header).</param>
/// <param name="BodyLength">Bytes of the body.</param>
/// <param name="FrameLength">Bytes the whole frame takes (header, body and any trailer): what the connection consumes.</param>
/// <param name="DeclaredLength">The body length the header declared (reported with Empty and TooLarge).</param>
/// <param name="Kind">Text for a chat message; a control kind with <see cref="FrameDecodeStatus.Control"/>.</param>
public readonly record struct DecodedFrame(int BodyOffset, int BodyLength, int FrameLength, long DeclaredLength, FrameKind Kind = FrameKind.Text);

/// <summary>Why a connection's input could not be split into messages (reported to the handler, then the connection closes).</summary>
public enum FrameError
{
    Empty,
    TooLarge,

    /// <summary>A message kind the protocol does not carry (WebSocket binary): BAD_FRAME, close code 1003.</summary>
    Unsupported,

    /// <summary>The framing's own rules were broken (WebSocket: close code 1002).</summary>
    Invalid,
}

/// <summary>
/// How one listener splits its byte stream into messages and frames outbound bodies: a 4-byte length prefix on TCP
/// and TLS (<see cref="LengthPrefixCodec"/>); one JSON object per WebSocket text message on the HTTP listener
/// (<see cref="WebSocketCodec"/>). The codec sits between <see cref="Connection"/> and the handler, which sees whole
/// bodies only. Implementations are stateless and shared by every connection of their listener.
/// <para>
/// Outbound, a frame may be fanned out to connections of every listener, so its body is written once and each codec
/// frames it its own way: the length prefix lives in the frame's headroom (<see cref="HeaderInFrame"/>, written once by
/// <see cref="OutboundFrame.Finish"/>), while the WebSocket stream writes its header as it copies the body into the
/// HTTP server's output (it copies anyway), so the WebSocket codec writes nothing into the frame.
/// </para>
/// </summary>
public interface IFrameCodec
{
    /// <summary>The longest inbound header (bounds the receive buffer at max_frame_bytes plus this).</summary>
    int MaxHeaderBytes { get; }

    /// <summary>
    /// True: <see cref="WriteHeader"/>'s header is in the frame's headroom and goes out with the body as one segment
    /// (the frame must be finished for this codec). False: the connection's stream frames each message as it writes it,
    /// and any finished frame can be sent.
    /// </summary>
    bool HeaderInFrame => true;

    /// <summary>
    /// The answer to a <see cref="FrameDecodeStatus.Control"/> message (a pong for a ping, the closing handshake for a
    /// close), or null; <paramref name="close"/>: the peer asked to close, so the connection closes after the answer.
    /// </summary>
    OutboundFrame? AnswerControl(FrameKind kind, ReadOnlySpan<byte> payload, out bool close)
    {
        close = false;
        return null;
    }

    /// <summary>
    /// The framing's last word before a connection closes after its flush (a WebSocket close frame whose code says
    /// why), or null. <paramref name="badFrame"/> is set when the close follows a frame the codec rejected.
    /// </summary>
    OutboundFrame? Goodbye(CloseReason reason, FrameError? badFrame) => null;

    /// <summary>Milliseconds of silence toward the peer after which <see cref="KeepAlive"/> is sent; 0: never.</summary>
    long KeepAliveMs => 0;

    /// <summary>A frame that keeps an idle connection alive through proxies and NATs (a WebSocket ping).</summary>
    OutboundFrame? KeepAlive() => null;

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
