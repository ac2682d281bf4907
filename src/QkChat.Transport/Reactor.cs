using System.Diagnostics;

namespace QkChat.Transport;

/// <summary>
/// One event-loop thread. It owns its connections for life: every change to a connection's state happens here,
/// so connections need no locks. Socket completions (which .NET raises on its own I/O threads) only post work to
/// the inbox; the reactor drains it, lets the handler parse and answer, and flushes every connection it touched
/// once per drain, so several responses leave in one gathered send.
/// </summary>
public sealed class Reactor
{
    private readonly ReactorInbox<ReactorWork> _inbox = new();
    private readonly List<Connection> _connections = [];
    private readonly List<Connection> _dirty = [];
    private readonly Thread _thread;
    private Thread _owner;
    private readonly TransportEngine _engine;
    private readonly int? _pinCpu;
    private volatile bool _running = true;

    internal Reactor(TransportEngine engine, int index, int? pinCpu)
    {
        _engine = engine;
        Index = index;
        _pinCpu = pinCpu;
        Stats = new ReactorStats(index);
        _thread = new Thread(Run) { IsBackground = true, Name = $"qkchat-reactor-{index}" };
        _owner = _thread;
    }

    public int Index { get; }

    public ReactorStats Stats { get; }

    /// <summary>Connections owned now (read from other threads only as a load hint).</summary>
    public int ConnectionCount => Volatile.Read(ref Stats.OpenConnections);

    /// <summary>
    /// Connections assigned by the acceptor and not yet removed: counted at accept time, so a burst of accepts is
    /// spread before the reactor has processed their Open items (ConnectionCount lags behind).
    /// </summary>
    internal int Assigned => Volatile.Read(ref _assigned);

    private int _assigned;

    internal void Assign() => Interlocked.Increment(ref _assigned);

    /// <summary>Undoes <see cref="Assign"/> for a connection that never opened (failed TLS handshake) or was removed.</summary>
    internal void Unassign() => Interlocked.Decrement(ref _assigned);

    public bool IsCurrentThread => Thread.CurrentThread == _owner;

    /// <summary>In-memory mode (no reactor thread running): the calling thread plays the reactor.</summary>
    internal void AdoptCurrentThread() => _owner = Thread.CurrentThread;

    internal TransportEngine Engine => _engine;

    internal IConnectionHandler Handler => _engine.Handler;

    internal TransportOptions Options => _engine.Options;

    internal void Start() => _thread.Start();

    internal void Post(in ReactorWork work) => _inbox.Post(work);

    internal void Join(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>Runs <paramref name="callback"/> on this reactor's thread (results of work done elsewhere come back this way).</summary>
    public void Post(Action<Connection, object?> callback, Connection connection, object? state) =>
        _inbox.Post(new ReactorWork(WorkKind.Callback, connection, Callback: callback, State: state));

    internal void MarkDirty(Connection connection) => _dirty.Add(connection);

    internal void DiscardDirty() => _dirty.Clear();

    /// <summary>Runs <paramref name="action"/> on this reactor's thread; completes when it has run.</summary>
    internal Task InvokeAsync(Action<Reactor> action)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inbox.Post(new ReactorWork(WorkKind.Invoke, State: (Action)(() =>
        {
            try { action(this); done.TrySetResult(); }
            catch (Exception e) { done.TrySetException(e); }
        })));
        return done.Task;
    }

    /// <summary>
    /// Runs what is queued, on a thread that adopted this reactor (in-memory connections: benchmarks and tests).
    /// Output stays queued on the connections (nothing is flushed to a socket). Returns the items run.
    /// </summary>
    internal int RunPending()
    {
        int count = 0;
        while (_inbox.TryTake(out var work))
        {
            Execute(work);
            count++;
        }
        return count;
    }

    private void Run()
    {
        Stats.OsThreadId = CpuAffinity.CurrentOsThreadId();
        if (_pinCpu is int cpu)
            Stats.PinnedCpu = CpuAffinity.TryPinCurrentThread(cpu, out _) ? cpu : -1;
        while (_running)
        {
            _inbox.Wait(); // parks only when the inbox is empty
            while (_inbox.TryTake(out var work))
            {
                Execute(work);
                // Flush as we go when a drain is long, so a busy inbox does not delay responses indefinitely.
                if (_dirty.Count >= 64) FlushDirty();
            }
            FlushDirty();
        }
    }

    private void Execute(in ReactorWork work)
    {
        try
        {
            switch (work.Kind)
            {
                case WorkKind.Open: Open(work.Connection!); break;
                case WorkKind.ReceiveReady: work.Connection!.OnReceiveReady(); break;
                case WorkKind.SendCompleted: work.Connection!.OnSendCompleted(); break;
                case WorkKind.Send: work.Connection!.Send(work.Frame!, work.Droppable); break;
                case WorkKind.Close: work.Connection!.CloseAfterFlush(work.Reason); break;
                case WorkKind.Resume: work.Connection!.Resume(); break;
                case WorkKind.Callback:
                    if (!work.Connection!.IsClosed) work.Callback!(work.Connection, work.State);
                    break;
                case WorkKind.Tick: Tick(); break;
                case WorkKind.Invoke: ((Action)work.State!)(); break;
                case WorkKind.Stop: _running = false; break;
            }
        }
        catch (Exception e)
        {
            // A bug in one connection's handling must not take down the reactor and every other connection on it.
            Stats.HandlerFaults++;
            _engine.ReportFault(this, work.Connection, e);
            work.Connection?.Abort(CloseReason.ProtocolError);
        }
    }

    private void Open(Connection connection)
    {
        connection.IndexInReactor = _connections.Count;
        _connections.Add(connection);
        Stats.OpenConnections++;
        Stats.Accepted++;
        if (connection.IsTls)
        {
            Stats.OpenTlsConnections++;
            Stats.AcceptedTls++;
        }
        else if (connection.Listener == ListenerKind.WebSocket)
        {
            Stats.OpenWebSocketConnections++;
            Stats.AcceptedWebSocket++;
        }
        connection.Start();
    }

    /// <summary>Called by a connection when it is fully closed: swap-remove keeps removal O(1).</summary>
    internal void Remove(Connection connection)
    {
        int i = connection.IndexInReactor;
        if (i < 0 || i >= _connections.Count || _connections[i] != connection) return;
        var last = _connections[^1];
        _connections[i] = last;
        last.IndexInReactor = i;
        _connections.RemoveAt(_connections.Count - 1);
        connection.IndexInReactor = -1;
        Stats.OpenConnections--;
        if (connection.IsTls) Stats.OpenTlsConnections--;
        else if (connection.Listener == ListenerKind.WebSocket) Stats.OpenWebSocketConnections--;
        Unassign();
    }

    private void FlushDirty()
    {
        // Flush may close a connection, which never re-adds it here; index loop tolerates additions.
        for (int i = 0; i < _dirty.Count; i++) _dirty[i].Flush();
        _dirty.Clear();
    }

    /// <summary>Once per ticker period: deadlines, stalled sends and lingering closes. O(connections) with no allocation.</summary>
    private void Tick()
    {
        long now = Environment.TickCount64;
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i >= _connections.Count) continue; // a check below may have removed more than one
            _connections[i].CheckTimers(now);
        }
    }

    /// <summary>Applies <paramref name="action"/> to every connection of this reactor, on this reactor.</summary>
    internal void ForEachConnection(Action<Connection> action)
    {
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) action(_connections[i]);
        }
    }

    [Conditional("DEBUG")]
    internal void AssertOnThread() => Debug.Assert(IsCurrentThread, "connection state touched off its reactor");
}

/// <summary>
/// Counters of one reactor, written only by that reactor's thread (plain increments, no interlocked traffic on
/// the hot path) and summed when read by monitoring; a reader may see a value one update old.
/// </summary>
public sealed class ReactorStats(int index)
{
    public int Index { get; } = index;
    public int PinnedCpu = -2; // -2 not requested, -1 failed
    /// <summary>The reactor thread's kernel id (top -H, perf, /proc/self/task/&lt;id&gt;); 0 until it runs or off Linux.</summary>
    public int OsThreadId;
    public int OpenConnections;
    public long Accepted;
    /// <summary>Of <see cref="OpenConnections"/> and <see cref="Accepted"/>, those of the TLS listener.</summary>
    public int OpenTlsConnections;
    public long AcceptedTls;
    /// <summary>Of <see cref="OpenConnections"/> and <see cref="Accepted"/>, those of the HTTP listener's WebSocket (plain or TLS).</summary>
    public int OpenWebSocketConnections;
    public long AcceptedWebSocket;
    public long BytesIn;
    public long BytesOut;
    public long Sends;
    /// <summary>Frames queued for sending: responses and pushes (a fanned-out push counts once per receiver).</summary>
    public long FramesOut;
    public long DroppedFrames;
    /// <summary>The most bytes any one connection of this reactor has had queued for sending (bounded by the hard cap).</summary>
    public int PeakQueuedBytes;
    public long HandlerFaults;
    public readonly long[] ClosedByReason = new long[Enum.GetValues<CloseReason>().Length];
}
