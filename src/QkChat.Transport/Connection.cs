using System.Net;

namespace QkChat.Transport;

/// <summary>
/// One client connection, owned for life by one <see cref="Reactor"/>. All members except the Post* methods must be
/// called on that reactor's thread (the handler always is). State: Open -> Closing (flush what is queued) ->
/// Lingering (half-closed, discarding input so unread bytes cannot turn our last frame into a reset) -> Closed.
/// Split by direction into partial files: Connection.Receive.cs and Connection.Send.cs. Underneath is one
/// <see cref="ConnectionStream"/> (socket, TLS or in-memory) and the listener's <see cref="IFrameCodec"/>; the
/// handler above sees whole message bodies only.
/// </summary>
public sealed partial class Connection
{
    private enum Phase : byte { Open, Closing, Lingering, Closed }

    private static long _nextId;

    private readonly ConnectionStream _stream;
    private readonly IFrameCodec _codec;
    private readonly TransportOptions _options;
    private Phase _state;
    private CloseReason _closeReason;
    private long _deadline;
    private long _stateDeadline;
    private FrameError? _badFrame;
    private bool _goodbyeSent;

    /// <summary>Came through the TLS listener (metrics count connections per listener).</summary>
    public bool IsTls => _stream.IsTls;

    /// <summary>The listener this connection came through (tcp, tls, ws in metrics).</summary>
    public ListenerKind Listener => _stream.Listener;

    internal Connection(Reactor reactor, ConnectionStream stream, IPAddress remoteAddress, IFrameCodec codec)
    {
        Reactor = reactor;
        _stream = stream;
        _codec = codec;
        _options = reactor.Options;
        RemoteAddress = remoteAddress;
        LimitKey = reactor.Engine.Limiter.KeyOf(remoteAddress);
        Id = Interlocked.Increment(ref _nextId);
        _lastSentAt = Environment.TickCount64;
    }

    public long Id { get; }

    public Reactor Reactor { get; }

    public IPAddress RemoteAddress { get; }

    /// <summary>
    /// What per-address limits (connections, codes, failed logins, availability checks) count this client under:
    /// the IPv4 address, or the IPv6 prefix (<see cref="ClientAddress.LimitKey"/>). Logs and audit rows keep the
    /// full <see cref="RemoteAddress"/>.
    /// </summary>
    public string LimitKey { get; }

    /// <summary>The handler's per-connection state (the session); the transport never looks at it.</summary>
    public object? State { get; set; }

    public bool IsOpen => _state == Phase.Open;

    public bool IsClosed => _state == Phase.Closed;

    /// <summary>Bytes queued or being sent: what this connection currently pins in memory on its way out.</summary>
    public int QueuedBytes => _queuedBytes;

    internal int IndexInReactor { get; set; } = -1;

    internal void Start()
    {
        _stream.Start(this);
        Reactor.Handler.OnOpened(this);
        if (_state == Phase.Open) ReceiveLoop();
    }

    /// <summary>Calls the handler's OnDeadline at <paramref name="tickCount64"/> (Environment.TickCount64 ms), checked once a tick.</summary>
    public void SetDeadline(long tickCount64) => _deadline = tickCount64;

    public void ClearDeadline() => _deadline = 0;

    /// <summary>Sends what is queued, then closes. Further input is discarded; further sends are refused.</summary>
    public void CloseAfterFlush(CloseReason reason)
    {
        Reactor.AssertOnThread();
        if (_state != Phase.Open) return;
        if (!_goodbyeSent)
        {
            // The framing's last word (a WebSocket close frame whose code says why), after whatever the handler queued.
            _goodbyeSent = true;
            if (_codec.Goodbye(reason, _badFrame) is { } goodbye) Send(goodbye);
            if (_state != Phase.Open) return;
        }
        _closeReason = reason;
        _state = Phase.Closing;
        // The flush of what is queued must not take longer than a stalled send would be allowed to.
        _stateDeadline = Environment.TickCount64 + (long)_options.SlowConsumerTimeout.TotalMilliseconds;
        if (!_sendPending && _queue.Count == 0) BeginLinger();
        else MarkDirty();
    }

    /// <summary>Closes at once, dropping whatever is queued.</summary>
    public void Abort(CloseReason reason)
    {
        if (_state == Phase.Closed) return;
        if (_state == Phase.Open) _closeReason = reason;
        _state = Phase.Closed;
        _stream.Close();
        ReleaseQueued();
        Reactor.Stats.ClosedByReason[(int)_closeReason]++;
        Reactor.Remove(this);
        Reactor.Engine.Limiter.Release(RemoteAddress);
        Reactor.Handler.OnClosed(this, _closeReason); // once: a closed connection returns at the top
        TryRecycle();
    }

    /// <summary>Thread-safe: queue <paramref name="frame"/> (whose reference passes to the connection) from any thread.</summary>
    public void PostSend(OutboundFrame frame, bool droppable = false)
    {
        if (Reactor.IsCurrentThread) Send(frame, droppable);
        else Reactor.Post(new ReactorWork(WorkKind.Send, this, frame, Droppable: droppable));
    }

    /// <summary>Thread-safe: flush, then close.</summary>
    public void PostClose(CloseReason reason)
    {
        if (Reactor.IsCurrentThread) CloseAfterFlush(reason);
        else Reactor.Post(new ReactorWork(WorkKind.Close, this, Reason: reason));
    }

    /// <summary>Thread-safe: run <paramref name="callback"/> on this connection's reactor unless it has closed by then.</summary>
    public void Post(Action<Connection, object?> callback, object? state) => Reactor.Post(callback, this, state);

    private void BeginLinger()
    {
        if (_state == Phase.Closed) return;
        _state = Phase.Lingering;
        _stateDeadline = Environment.TickCount64 + (long)_options.LingerTimeout.TotalMilliseconds;
        if (!_stream.TryShutdownSend())
        {
            Abort(_closeReason);
            return;
        }
        if (!_receivePending && !_inReceive) ReceiveLoop();
    }

    internal void CheckTimers(long now)
    {
        switch (_state)
        {
            case Phase.Open when _deadline != 0 && now >= _deadline:
                _deadline = 0;
                Reactor.Handler.OnDeadline(this);
                break;
            case Phase.Open when _codec.KeepAliveMs > 0 && !_sendPending && _queue.Count == 0 && now - _lastSentAt >= _codec.KeepAliveMs:
                // Silence toward the peer: a keepalive (WebSocket ping) holds proxies and NATs open and finds dead peers.
                if (_codec.KeepAlive() is { } ping) Send(ping);
                _lastSentAt = now;
                break;
            case Phase.Closing or Phase.Lingering when now >= _stateDeadline:
                Abort(_closeReason);
                return;
        }
        if (_sendPending && _state != Phase.Closed && now - _sendStartedAt >= (long)_options.SlowConsumerTimeout.TotalMilliseconds)
            Abort(CloseReason.SlowConsumer);
    }

    /// <summary>Once no stream operation is outstanding, the stream's event args and the receive block go back to their pools.</summary>
    private void TryRecycle()
    {
        if (_state != Phase.Closed || _receivePending || _sendPending || _inReceive) return;
        ReturnReceiveBlock();
        _stream.Recycle();
    }

    public override string ToString() => $"#{Id} {RemoteAddress} on reactor {Reactor.Index}";
}
