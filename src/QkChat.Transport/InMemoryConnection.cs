using System.Net;

namespace QkChat.Transport;

/// <summary>
/// A connection whose handler can be driven directly, without a reactor thread, a socket or network traffic:
/// benchmarks and allocation tests feed bytes through the codec to the handler and discard what it queues (Garnet's
/// "embedded session" idea). Its stream is an <see cref="InMemoryStream"/>.
/// </summary>
public sealed class InMemoryConnection : IDisposable
{
    private readonly TransportEngine _engine;

    public InMemoryConnection(IConnectionHandler handler, IFrameCodec? codec = null)
    {
        _engine = new TransportEngine(new TransportOptions { Reactors = 1 }, handler, NoEvents.Instance);
        _engine.Reactors[0].AdoptCurrentThread();
        Connection = new Connection(_engine.Reactors[0], new InMemoryStream(), IPAddress.Loopback, codec ?? LengthPrefixCodec.Instance);
        _engine.Limiter.TryAcquire(IPAddress.Loopback, out _);
        Connection.Start();
    }

    public Connection Connection { get; }

    /// <summary>
    /// Hands <paramref name="bytes"/> (framed as the codec expects) to the connection, which passes each whole body to
    /// the handler; returns the bytes consumed (a partial frame is not). The codec may rewrite the bytes it decodes.
    /// </summary>
    public int Receive(Span<byte> bytes) => Connection.OfferInput(bytes);

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
