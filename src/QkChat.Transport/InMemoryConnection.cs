using System.Net;
using System.Net.Sockets;

namespace QkChat.Transport;

/// <summary>
/// A connection whose handler can be driven directly, without a reactor thread or network traffic: benchmarks and
/// allocation tests feed bytes to the handler and discard what it queues (Garnet's "embedded session" idea).
/// The socket exists only because Connection owns one; nothing is ever sent or received on it.
/// </summary>
public sealed class InMemoryConnection : IDisposable
{
    private readonly TransportEngine _engine;

    public InMemoryConnection(IConnectionHandler handler)
    {
        _engine = new TransportEngine(new TransportOptions { Reactors = 1 }, handler, NoEvents.Instance);
        _engine.Reactors[0].AdoptCurrentThread();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Connection = new Connection(_engine.Reactors[0], socket, IPAddress.Loopback) { Embedded = true };
        _engine.Limiter.TryAcquire(IPAddress.Loopback, out _);
        handler.OnOpened(Connection);
    }

    public Connection Connection { get; }

    /// <summary>Hands <paramref name="bytes"/> to the handler; returns the bytes it consumed.</summary>
    public int Receive(ReadOnlySpan<byte> bytes) => _engine.Handler.OnReceived(Connection, bytes);

    /// <summary>
    /// Runs the work other threads posted to this connection's reactor (async responses, pushes, resumes) on the
    /// calling thread, which must be the one that created this connection. Returns the items run.
    /// </summary>
    public int RunPending() => _engine.Reactors[0].RunPending();

    /// <summary>Drops the queued output as if sent; returns the number of frames.</summary>
    public int DiscardOutput() => Connection.DiscardQueued();

    public void Dispose() => Connection.Abort(CloseReason.Requested);

    private sealed class NoEvents : ITransportEvents
    {
        public static readonly NoEvents Instance = new();
        public void Listening(EndPoint endPoint, bool tls) { }
        public void Rejected(IPAddress remote, RejectReason reason) { }
        public void Fault(Connection? connection, Exception exception) { }
        public void AcceptFailed(Exception exception) { }
        public void TlsHandshakeFailed(IPAddress remote, string reason) { }
    }
}
