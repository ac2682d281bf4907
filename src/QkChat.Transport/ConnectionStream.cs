namespace QkChat.Transport;

/// <summary>The listener a connection came through: the chat port, its TLS port, or the HTTP listener's WebSocket.</summary>
public enum ListenerKind : byte
{
    Tcp,
    Tls,
    WebSocket,
}

/// <summary>What one non-blocking read found.</summary>
internal enum ReadStatus : byte
{
    Data,
    WouldBlock,
    End,
    Failed,
}

/// <summary>
/// The byte stream under a <see cref="Connection"/>: a plain socket (<see cref="SocketStream"/>), TLS
/// (<see cref="TlsStream"/>), an upgraded WebSocket's HTTP pipes (<see cref="WebSocketPipeStream"/>) or nothing at all (<see cref="InMemoryStream"/>, for benchmarks and tests). The
/// connection owns the state machine, the receive buffer, the codec and the send queue; a stream only moves bytes.
/// Every member is called on the owner's reactor; a stream that completes work elsewhere posts
/// <c>ReceiveReady</c> or <c>SendCompleted</c> to that reactor and never touches connection state itself.
/// </summary>
internal abstract class ConnectionStream
{
    /// <summary>Came through the TLS listener (metrics count connections per listener).</summary>
    public virtual bool IsTls => false;

    /// <summary>Which listener the connection came through (metrics label each kind).</summary>
    public virtual ListenerKind Listener => IsTls ? ListenerKind.Tls : ListenerKind.Tcp;

    /// <summary>Binds the stream to its connection (on the reactor, before the first wait).</summary>
    public abstract void Start(Connection owner);

    /// <summary>
    /// Waits for input without holding a buffer (a zero-byte receive where the stream allows). True: something can be
    /// read now (data, its end or an error); false: <c>ReceiveReady</c> will be posted when it can.
    /// </summary>
    public abstract bool WaitForInput();

    /// <summary>Copies what is available into <paramref name="into"/> without blocking; returns the bytes copied.</summary>
    public abstract int Read(Span<byte> into, out ReadStatus status);

    /// <summary>
    /// Starts writing <paramref name="frames"/> (header and body each, in order). True: pending, <c>SendCompleted</c>
    /// will be posted; false: finished already. Either way the frames stay owned by the connection until then.
    /// </summary>
    public abstract bool StartSend(List<OutboundFrame> frames);

    /// <summary>The outcome of the last finished send.</summary>
    public abstract bool LastSendSucceeded { get; }

    public abstract int LastSendBytes { get; }

    /// <summary>
    /// Half-closes the sending side so the peer sees the end after our last frame while we still read (and discard)
    /// its input. False when the stream cannot (TLS: a TCP half-close would truncate the stream) or is gone: the
    /// connection then closes at once.
    /// </summary>
    public abstract bool TryShutdownSend();

    /// <summary>Closes the stream; outstanding operations end (with an error) and still post their completion.</summary>
    public abstract void Close();

    /// <summary>Once nothing is outstanding: pooled native state (event args) goes back to its pool.</summary>
    public virtual void Recycle()
    {
    }
}
