using System.Net;
using System.Net.Sockets;

namespace QkChat.Transport;

/// <summary>
/// Owns the reactors, the listeners and the one ticker that drives every deadline (no Timer per connection).
/// Accepted sockets go to the least-loaded reactor, which owns them for life.
/// </summary>
public sealed partial class TransportEngine : IAsyncDisposable
{
    // Deadlines are checked once per tick: 1 s is fine-grained enough for 30 s login / 60 s idle timeouts and
    // costs one O(connections) scan per reactor per second.
    private static readonly TimeSpan TickPeriod = TimeSpan.FromSeconds(1);

    private readonly Reactor[] _reactors;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ITransportEvents _events;
    private Timer? _ticker;
    private volatile bool _stopping;

    public TransportEngine(TransportOptions options, IConnectionHandler handler, ITransportEvents events)
    {
        Options = options;
        Handler = handler;
        _events = events;
        Limiter = new ConnectionLimiter(options.MaxClients, options.MaxClientsPerIp, options.Ipv6LimitPrefixLength);
        int count = options.EffectiveReactors;
        _reactors = new Reactor[count];
        for (int i = 0; i < count; i++)
            _reactors[i] = new Reactor(this, i, options.PinReactors ? i % Environment.ProcessorCount : null);
    }

    public TransportOptions Options { get; }

    public IConnectionHandler Handler { get; }

    public ConnectionLimiter Limiter { get; }

    public IReadOnlyList<Reactor> Reactors => _reactors;

    /// <summary>The bound plain-TCP endpoint (useful with port 0 in tests); null when the plain listener is off.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public IPEndPoint? TlsEndPoint { get; private set; }

    /// <summary>At least one listener is bound.</summary>
    public bool Listening => LocalEndPoint is not null || TlsEndPoint is not null;

    public void Start()
    {
        if (!Options.PlainListener && Options.Tls is null)
            throw new InvalidOperationException("neither the plain nor the TLS listener is enabled");
        foreach (var reactor in _reactors) reactor.Start();
        if (Options.Tls is { } tls) LoadCertificate(tls);
        // Both listeners carry protocol.md §1's length-prefixed frames; a WebSocket listener would bring its own codec.
        if (Options.PlainListener) LocalEndPoint = Listen(new IPEndPoint(Options.Address, Options.Port), tls: false, LengthPrefixCodec.Instance);
        if (Options.Tls is { } tlsListener) TlsEndPoint = Listen(new IPEndPoint(Options.Address, tlsListener.Port), tls: true, LengthPrefixCodec.Instance);
        _ticker = new Timer(_ => Tick(), null, TickPeriod, TickPeriod);
    }

    private IPEndPoint Listen(IPEndPoint endPoint, bool tls, IFrameCodec codec)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endPoint);
        listener.Listen(Options.Backlog);
        _listeners.Add(listener);
        var bound = (IPEndPoint)listener.LocalEndPoint!;
        _events.Listening(bound, tls);
        // Built once per listener: the busy answer in this listener's framing (TLS refuses without a handshake).
        byte[] busy = tls || Options.BusyBody.IsEmpty ? [] : FrameWhole(codec, Options.BusyBody.Span);
        _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener, tls, codec, busy)));
        return bound;
    }

    /// <summary>Header and body in one new array (for the rare busy answer, not the hot path).</summary>
    private static byte[] FrameWhole(IFrameCodec codec, ReadOnlySpan<byte> body)
    {
        Span<byte> headroom = stackalloc byte[OutboundFrame.Headroom];
        int header = codec.WriteHeader(headroom, body.Length);
        return [.. headroom[^header..], .. body];
    }

    private async Task AcceptLoopAsync(Socket listener, bool tls, IFrameCodec codec, byte[] busy)
    {
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException || (e is SocketException && _stopping))
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: say so, back off briefly instead of spinning on a failing accept.
                _events.AcceptFailed(e);
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }
            Admit(socket, tls, codec, busy);
        }
    }

    private void Admit(Socket socket, bool tls, IFrameCodec codec, byte[] busy)
    {
        IPAddress remote;
        try
        {
            remote = ((IPEndPoint)socket.RemoteEndPoint!).Address;
        }
        catch (SocketException)
        {
            socket.Dispose(); // the peer was gone before we looked
            return;
        }
        RejectReason reason = RejectReason.ShuttingDown;
        if (_stopping || !Limiter.TryAcquire(remote, out reason))
        {
            Refuse(socket, remote, reason, busy);
            return;
        }
        socket.NoDelay = true;
        var reactor = LeastLoaded();
        if (tls)
        {
            _ = StartTlsAsync(socket, remote, reactor, codec); // SslStream needs a blocking-mode socket; it reads asynchronously
            return;
        }
        // Non-blocking before anything reads it: a sync read must never stall a reactor.
        socket.Blocking = false;
        reactor.Post(new ReactorWork(WorkKind.Open, new Connection(reactor, new SocketStream(socket), remote, codec)));
    }

    private void Refuse(Socket socket, IPAddress remote, RejectReason reason, byte[] busy)
    {
        _events.Rejected(remote, reason);
        try
        {
            // Best effort and never blocking: a refused client gets SERVER_BUSY if its buffer has room.
            socket.Blocking = false;
            if (busy.Length > 0) socket.Send(busy, SocketFlags.None, out _);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        socket.Dispose();
    }

    /// <summary>The reactor with the fewest assigned connections; it is charged for the new one at once.</summary>
    private Reactor LeastLoaded()
    {
        var best = _reactors[0];
        for (int i = 1; i < _reactors.Length; i++)
            if (_reactors[i].Assigned < best.Assigned) best = _reactors[i];
        best.Assign();
        return best;
    }

    private void Tick()
    {
        foreach (var reactor in _reactors) reactor.Post(new ReactorWork(WorkKind.Tick));
    }

    internal void ReportFault(Reactor reactor, Connection? connection, Exception e) => _events.Fault(connection, e);

    /// <summary>Open connections over all reactors.</summary>
    public int OpenConnections => _reactors.Sum(r => r.ConnectionCount);

    /// <summary>
    /// Graceful stop (architecture.md §4): stop accepting, send <paramref name="farewell"/> to every connection and
    /// close it after its queue flushes, wait until all are closed or the deadline passes, cut the rest, stop the
    /// reactors. The caller's reference to <paramref name="farewell"/> is released here.
    /// </summary>
    public async Task StopAsync(OutboundFrame? farewell, TimeSpan deadline)
    {
        if (_stopping) { farewell?.Release(); return; }
        _stopping = true;
        long until = Environment.TickCount64 + (long)deadline.TotalMilliseconds;
        foreach (var listener in _listeners) listener.Dispose();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);

        await OnEveryReactorAsync(r => r.ForEachConnection(c =>
        {
            if (farewell is not null && c.IsOpen) c.Send(farewell.AddReference());
            c.CloseAfterFlush(CloseReason.Shutdown);
        })).ConfigureAwait(false);
        farewell?.Release();

        while (OpenConnections > 0 && Environment.TickCount64 < until)
            await Task.Delay(20).ConfigureAwait(false);
        await OnEveryReactorAsync(r => r.ForEachConnection(c => c.Abort(CloseReason.Shutdown))).ConfigureAwait(false);

        _ticker?.Dispose();
        foreach (var reactor in _reactors) reactor.Post(new ReactorWork(WorkKind.Stop));
        foreach (var reactor in _reactors) reactor.Join(TimeSpan.FromSeconds(2));
    }

    /// <summary>Runs <paramref name="action"/> on every reactor's own thread and waits for all of them.</summary>
    private Task OnEveryReactorAsync(Action<Reactor> action) =>
        Task.WhenAll(_reactors.Select(r => r.InvokeAsync(action)));

    public async ValueTask DisposeAsync()
    {
        if (!_stopping) await StopAsync(null, TimeSpan.Zero).ConfigureAwait(false);
    }
}
