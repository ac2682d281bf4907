using System.Diagnostics;
using QkChat.Core.Dispatch;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;
using QkChat.Server.Cluster;
using QkChat.Transport;

namespace QkChat.Server.Admin;

/// <summary>One second of the server as the dashboard and the alerts see it.</summary>
public readonly record struct StatusSample(long At, int Connections, int Devices, double MessagesPerSecond, double CpuPercent,
    long WorkingSetBytes, double MemoryPercent, long Errors, double ErrorsPerSecond, int[] ReactorConnections, double[] ReactorBytesPerSecond,
    RequestFigures Requests = default, double GroupEntriesPerSecond = 0, double RoutedOutPerSecond = 0, double RoutedInPerSecond = 0,
    int WebSocketConnections = 0);

/// <summary>
/// Samples the server once a second and keeps the last two minutes for the dashboard's charts. Reading the
/// per-reactor counters is the only contact with the hot path (plain reads, no locks).
/// </summary>
public sealed class StatusSampler : IAsyncDisposable
{
    /// <summary>Two minutes of history: what a person watching the page wants to see at a glance.</summary>
    public const int HistorySeconds = 120;

    private readonly TransportEngine _engine;
    private readonly LiveSessions _live;
    private readonly MessagingService _messaging;
    private readonly GroupService? _groups;
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly StatusSample[] _ring = new StatusSample[HistorySeconds];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _next, _count;
    private long _lastMessages, _lastGroupEntries, _lastErrors, _lastTicks;
    private long[] _lastBytes;
    private TimeSpan _lastCpu;
    private readonly RequestWindow _requests;
    private readonly RouteStats? _routes;
    private long _lastRoutedOut, _lastRoutedIn;

    /// <param name="routes">Cross-node routing counters (docs/cluster.md); null: the node routes nothing across nodes and
    /// the cross-node rates stay 0.</param>
    public StatusSampler(TransportEngine engine, LiveSessions live, MessagingService messaging, RequestMetrics? requests = null,
        GroupService? groups = null, RouteStats? routes = null)
    {
        _groups = groups;
        _engine = engine;
        _routes = routes;
        _live = live;
        _messaging = messaging;
        _requests = new RequestWindow(requests);
        _lastBytes = new long[engine.Reactors.Count];
        _lastTicks = Stopwatch.GetTimestamp();
        _lastCpu = _process.TotalProcessorTime;
        _loop = RunAsync();
    }

    /// <summary>Called after every sample (the alert monitor listens here).</summary>
    public event Action<StatusSample>? Sampled;

    public StatusSample[] History()
    {
        lock (_gate)
        {
            var list = new StatusSample[_count];
            for (int i = 0; i < _count; i++) list[i] = _ring[(_next - _count + i + HistorySeconds) % HistorySeconds];
            return list;
        }
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var sample = Take();
                lock (_gate)
                {
                    _ring[_next] = sample;
                    _next = (_next + 1) % HistorySeconds;
                    _count = Math.Min(_count + 1, HistorySeconds);
                }
                Sampled?.Invoke(sample);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal StatusSample Take()
    {
        long now = Stopwatch.GetTimestamp();
        double seconds = Math.Max(1e-3, Stopwatch.GetElapsedTime(_lastTicks, now).TotalSeconds);
        _process.Refresh();
        var cpu = _process.TotalProcessorTime;
        double cpuPercent = (cpu - _lastCpu).TotalSeconds / seconds / Environment.ProcessorCount * 100;
        long messages = _messaging.Writer.Written, groupEntries = _groups?.Writers.Written ?? 0;
        var reactors = _engine.Reactors;
        var connections = new int[reactors.Count];
        var bytes = new double[reactors.Count];
        long errors = 0;
        int webSockets = 0;
        for (int i = 0; i < reactors.Count; i++)
        {
            var stats = reactors[i].Stats;
            connections[i] = Volatile.Read(ref stats.OpenConnections);
            webSockets += Volatile.Read(ref stats.OpenWebSocketConnections);
            long total = Volatile.Read(ref stats.BytesIn) + Volatile.Read(ref stats.BytesOut);
            bytes[i] = (total - _lastBytes[i]) / seconds;
            _lastBytes[i] = total;
            errors += Volatile.Read(ref stats.HandlerFaults) + Volatile.Read(ref stats.ClosedByReason[(int)CloseReason.ProtocolError]);
        }
        // Frames (deliver records) this node published to other nodes and received from them: the cross-node traffic.
        long routedOut = _routes?.FramesPublished ?? 0, routedIn = _routes?.FramesReceived ?? 0;
        long memoryLimit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var sample = new StatusSample(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), connections.Sum(), _live.DeviceCount,
            (messages - _lastMessages) / seconds, cpuPercent, _process.WorkingSet64,
            memoryLimit > 0 ? _process.WorkingSet64 * 100.0 / memoryLimit : 0, errors, (errors - _lastErrors) / seconds,
            connections, bytes, _requests.Take(seconds), (groupEntries - _lastGroupEntries) / seconds,
            (routedOut - _lastRoutedOut) / seconds, (routedIn - _lastRoutedIn) / seconds, webSockets);
        _lastTicks = now;
        _lastCpu = cpu;
        _lastMessages = messages;
        _lastGroupEntries = groupEntries;
        _lastErrors = errors;
        _lastRoutedOut = routedOut;
        _lastRoutedIn = routedIn;
        return sample;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _process.Dispose();
    }
}
