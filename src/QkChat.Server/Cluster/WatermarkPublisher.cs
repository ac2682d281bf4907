using Microsoft.Extensions.Logging;
using QkChat.Core.Messaging;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Cluster;

/// <summary>
/// The cluster-wide read watermark's Redis side (docs/messaging.md "Several nodes", docs/cluster.md "Read watermark"):
/// every <see cref="Period"/> a task on the thread pool (never a reactor) writes this node's exact watermark
/// (<see cref="MessageWriter.VisibleBelow"/>) to `qk:{wm}:node:N` with a TTL of <see cref="MarkTtl"/> and, pipelined in the
/// same round trip, reads all 16 nodes' marks with one MGET into <see cref="Marks"/>, which the id-paged reads take
/// their bound from. All 16 keys share the `{wm}` tag, so the MGET is one command on a Redis Cluster too.
/// </summary>
public sealed partial class WatermarkPublisher : IAsyncDisposable
{
    /// <summary>
    /// 25 ms: a reader's bound trails another node's release by one to two periods (its publish, then this node's read),
    /// small against a human reading a chat and below the 50 ms a client's catch-up round trip takes on a WAN anyway.
    /// Cost per node: 40 SETs and 40 MGETs of 16 keys per second (80 commands/s, about 1,300/s for 16 nodes, all on the
    /// `{wm}` slot): a few per cent of one Redis core. Shorter periods buy little lag for proportionally more commands.
    /// </summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// 2 s: 80 periods, so a live node whose publishes stall (a GC pause, a starved thread pool, a Redis blip) keeps its
    /// mark; short, because a dead node's last mark holds back every node's catch-up reads until it expires (a SIGKILLed
    /// node's open transactions die with its connections, so nothing of it commits later; docs/cluster.md says what remains).
    /// Also how long a node trusts the marks it last read when Redis stops answering.
    /// </summary>
    public static readonly TimeSpan MarkTtl = TimeSpan.FromSeconds(2);

    private static readonly RedisKey[] AllKeys = Enumerable.Range(0, MessageIds.MaxNode + 1).Select(Key).ToArray();

    private readonly IConnectionMultiplexer _redis;
    private readonly int _node;
    private readonly Func<long> _ownMark;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly long[] _marks = new long[MessageIds.MaxNode + 1];
    private Task _loop = Task.CompletedTask;
    private bool _failing, _staleLogged;
    private long _failures;

    public WatermarkPublisher(IConnectionMultiplexer redis, int node, Func<long> ownMark, ILogger logger)
    {
        _redis = redis;
        _node = node;
        _ownMark = ownMark;
        _logger = logger;
    }

    /// <summary>The other nodes' marks as last read: the port MessagingService reads (set as its ClusterWatermark).</summary>
    public OtherNodeMarks Marks { get; } = new(MarkTtl);

    /// <summary>Rounds (publish and read) Redis did not answer (qkchat_messages_cluster_watermark_failures_total).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>The tag `{wm}` puts every node's mark on one slot, so one MGET reads them all on a Cluster.</summary>
    public static RedisKey Key(int node) => "qk:{wm}:node:" + node;

    /// <summary>
    /// Before this node mints its first id (the server calls it before it accepts connections): publishes this node's mark
    /// and reads the others', then waits two periods, so every other node has read this node's mark before a message of
    /// it can be in flight (until then they would not know to wait for it).
    /// </summary>
    public async Task StartAsync()
    {
        await RoundAsync();
        await Task.Delay(Period * 2);
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) await RoundAsync();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One publish and read, pipelined: one round trip.</summary>
    internal async Task RoundAsync()
    {
        long sentAt = Environment.TickCount64;
        RedisValue[] values;
        try
        {
            var db = _redis.GetDatabase();
            var publish = db.StringSetAsync(Key(_node), _ownMark(), MarkTtl);
            var read = db.StringGetAsync(AllKeys);
            await publish;
            values = await read;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Interlocked.Increment(ref _failures);
            if (!_failing) LogFailing(_logger, e.Message, MarkTtl.TotalSeconds);
            _failing = true;
            if (!_staleLogged && Marks.IsStaleAt(Environment.TickCount64))
            {
                _staleLogged = true;
                LogStale(_logger, MarkTtl.TotalSeconds);
            }
            return;
        }
        for (int n = 0; n < _marks.Length; n++) _marks[n] = values[n].TryParse(out long mark) ? mark : 0;
        Marks.Update(_marks, _node, sentAt);
        if (_failing) LogRecovered(_logger, Marks.OtherNodes);
        _failing = _staleLogged = false;
    }

    /// <summary>Graceful stop, after the writers drained: the mark leaves the minimum at once instead of after its TTL.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        try
        {
            await _redis.GetDatabase().KeyDeleteAsync(Key(_node));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // It expires by itself within MarkTtl.
        }
        _stop.Dispose();
    }

    [ZLoggerMessage(LogLevel.Warning, "cluster watermark: Redis did not answer ({error}); reads keep the other nodes' last marks for {ttl} s, then are bounded by this node's own watermark")]
    private static partial void LogFailing(ILogger logger, string error, double ttl);

    [ZLoggerMessage(LogLevel.Warning, "cluster watermark: no read of the other nodes' marks for {ttl} s: reads are now bounded by this node's own watermark only, " +
        "so until Redis answers a catch-up read may show a message of this node while an earlier one of another node is still being stored")]
    private static partial void LogStale(ILogger logger, double ttl);

    [ZLoggerMessage(LogLevel.Information, "cluster watermark: Redis answers again; reads are bounded by {others} other node(s)' marks")]
    private static partial void LogRecovered(ILogger logger, int others);
}
