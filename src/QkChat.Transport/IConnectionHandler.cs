namespace QkChat.Transport;

/// <summary>
/// The whole contract between the transport and the layer above: whole message bodies in (the listener's
/// <see cref="IFrameCodec"/> has already split the stream), frames out through <see cref="Connection.Send"/>.
/// Every call runs on the connection's own reactor thread, never concurrently for one connection, so the handler
/// needs no locks for per-connection state. Nothing here may block.
/// </summary>
public interface IConnectionHandler
{
    void OnOpened(Connection connection);

    /// <summary>
    /// One whole message body, valid only during the call (it lies in the connection's receive buffer). A handler
    /// that answers later calls <see cref="Connection.Pause"/>: no further message is offered until it resumes.
    /// </summary>
    void OnFrame(Connection connection, ReadOnlySpan<byte> body);

    /// <summary>
    /// The codec could not take the next message (<paramref name="declaredLength"/> 0, or above
    /// <paramref name="maxBodyBytes"/>, known before any of its body was buffered). The handler may send a last
    /// frame; the connection then closes after the flush whatever the handler did.
    /// </summary>
    void OnBadFrame(Connection connection, FrameError error, long declaredLength, int maxBodyBytes);

    /// <summary>The deadline set with <see cref="Connection.SetDeadline"/> passed.</summary>
    void OnDeadline(Connection connection);

    void OnClosed(Connection connection, CloseReason reason);
}
