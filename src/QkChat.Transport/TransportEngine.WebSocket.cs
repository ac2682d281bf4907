using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace QkChat.Transport;

public sealed partial class TransportEngine
{
    /// <summary>
    /// Takes over a WebSocket the HTTP listener has just upgraded (protocol.md §11): the same limits as an accepted
    /// socket (all connections, per source address), then a connection on the least-loaded reactor over the
    /// server's pipes, framed by <paramref name="codec"/>. Returns the task that ends when the connection is closed
    /// and its stream released (the HTTP request awaits it), or null when the limits refuse it (<paramref name="refused"/>
    /// says why; the caller answers SERVER_BUSY itself, <see cref="TransportOptions.BusyBody"/>). With the connection's
    /// plain <paramref name="socket"/> (never under TLS), frames are sent straight to it rather than through
    /// <paramref name="output"/>; the caller must not have anything unsent in that pipe.
    /// </summary>
    public Task? AdoptWebSocket(PipeReader input, PipeWriter output, IPAddress remote, WebSocketCodec codec, out RejectReason refused,
        Socket? socket = null)
    {
        refused = RejectReason.ShuttingDown;
        if (_stopping || !Limiter.TryAcquire(remote, out refused))
        {
            _events.Rejected(remote, refused);
            return null;
        }
        var reactor = LeastLoaded();
        var stream = new WebSocketPipeStream(input, output, socket);
        reactor.Post(new ReactorWork(WorkKind.Open, new Connection(reactor, stream, remote, codec)));
        return stream.Completion;
    }
}
