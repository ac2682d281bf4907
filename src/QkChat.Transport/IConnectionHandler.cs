namespace QkChat.Transport;

/// <summary>
/// The whole contract between the transport and the layer above: bytes in, bytes consumed out (the shape of
/// Garnet's IMessageConsumer). Every call runs on the connection's own reactor thread, never concurrently for one
/// connection, so the handler needs no locks for per-connection state. Nothing here may block.
/// </summary>
public interface IConnectionHandler
{
    void OnOpened(Connection connection);

    /// <summary>
    /// Parses what it can of <paramref name="data"/> (which may hold partial and several frames) and returns how
    /// many bytes it consumed; the rest is kept and offered again with more data appended.
    /// </summary>
    int OnReceived(Connection connection, ReadOnlySpan<byte> data);

    /// <summary>The deadline set with <see cref="Connection.SetDeadline"/> passed.</summary>
    void OnDeadline(Connection connection);

    void OnClosed(Connection connection, CloseReason reason);
}
