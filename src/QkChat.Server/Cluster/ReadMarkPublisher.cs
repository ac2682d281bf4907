using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using QkChat.Core.Messaging;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Cluster;

/// <summary>
/// The read marks' Redis side (docs/cluster.md "Read marks"): every <see cref="Period"/> a task on the thread pool (never
/// a reactor) writes this node's word (<see cref="MessageWriter.ReadMark"/>: its in-flight floor, 0 when idle, and a fresh
/// mark) to `qk:{rm}:node:N` and, pipelined in the same round trip, reads all 16 nodes' words with one MGET into
/// <see cref="Marks"/>, together with the liveness table of <see cref="ClusterDelivery"/>. All 16 keys share the `{rm}`
/// tag, so the MGET is one command on a Redis Cluster too.
/// </summary>
public sealed partial class ReadMarkPublisher : IAsyncDisposable
{
    /// <summary>
    /// 20 ms: a reader waits for every live node to speak after its own mark, so one to two periods plus a round trip is
    /// what a sync costs on several nodes (docs/messaging.md "Several nodes"). Cost per node: 50 SETs and 50 MGETs of 16
    /// keys per second, about 1,600 commands/s for 16 nodes on the `{rm}` slot, a few per cent of one Redis core.
    /// </summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// 30 s: the key only outlives a process that could not delete it (SIGKILL); no reader trusts it for that long (the
    /// liveness table, silence and the same-host:port retirement decide, <see cref="ClusterReadMarks"/>). Longer than
    /// the lease's 15 s default, so a live node's word never lapses under a Redis stall its lease survives.
    /// </summary>
    private static readonly TimeSpan KeyTtl = TimeSpan.FromSeconds(30);

    /// <summary>
    /// 2 s: how long the marks of the last successful read bound readers when Redis stops answering; after it, reads
    /// fall back to this node's own watermark (ClusterReadMarks) instead of hiding every later message for the outage.
    /// </summary>
    private static readonly TimeSpan Validity = TimeSpan.FromSeconds(2);

    private static readonly RedisKey[] AllKeys = Enumerable.Range(0, MessageIds.MaxNode + 1).Select(Key).ToArray();

    private readonly IConnectionMultiplexer _redis;
    private readonly int _node;
    private readonly string _deployment, _incarnation, _where;
    private readonly Func<(long Floor, long Mark)> _ownMark;
    private readonly ClusterDelivery _routing;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly NodeReadMark?[] _read = new NodeReadMark?[MessageIds.MaxNode + 1];
    private readonly bool[] _live = new bool[MessageIds.MaxNode + 1];
    private long _startedAt;
    private Task _loop = Task.CompletedTask;
    private bool _failing;
    private long _failures;

    public ReadMarkPublisher(IConnectionMultiplexer redis, NodeLease lease, string deployment, Func<(long Floor, long Mark)> ownMark,
        ClusterDelivery routing, ILogger logger)
    {
        _redis = redis;
        _node = lease.NodeId;
        _incarnation = lease.Incarnation;
        _where = lease.Where.Replace(' ', '_');
        _deployment = deployment;
        _ownMark = ownMark;
        _routing = routing;
        _logger = logger;
        Marks = new ClusterReadMarks(_node, _incarnation, _where, deployment, Validity);
    }

    /// <summary>The other nodes' words as last read: the port MessagingService reads (its ClusterMarks).</summary>
    public ClusterReadMarks Marks { get; }

    /// <summary>Rounds Redis did not answer (qkchat_messages_read_mark_failures_total).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>The tag `{rm}` puts every node's word on one slot, so one MGET reads them all on a Cluster.</summary>
    public static RedisKey Key(int node) => "qk:{rm}:node:" + node;

    /// <summary>
    /// The deployment's name in a word: a digest of the database's server, port and name. Nodes of one deployment write
    /// one database; a test suite's many deployments share one Redis, and must not wait for each other's marks.
    /// </summary>
    public static string DeploymentOf(string server, uint port, string database) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{server}:{port}/{database}")))[..12];

    /// <summary>
    /// Before this node mints its first id (the server calls it before it accepts connections): publishes this node's word
    /// and reads the others', then waits two periods, so every other node has read it before a message of this node can be
    /// in flight (until then their readers would not know to wait for it).
    /// </summary>
    public async Task StartAsync()
    {
        _startedAt = _ownMark().Mark;
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
    private async Task RoundAsync()
    {
        var (floor, mark) = _ownMark();
        var word = new NodeReadMark(_deployment, _incarnation, _where, _startedAt, floor, mark);
        RedisValue[] values;
        try
        {
            var db = _redis.GetDatabase();
            var publish = db.StringSetAsync(Key(_node), word.Format(), KeyTtl);
            var read = db.StringGetAsync(AllKeys);
            await publish;
            values = await read;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Interlocked.Increment(ref _failures);
            if (!_failing) LogFailing(_logger, e.Message, Validity.TotalSeconds);
            _failing = true;
            return;
        }
        for (int n = 0; n < _read.Length; n++) _read[n] = NodeReadMark.Parse(values[n]);
        _routing.LiveNodes.CopyTo(_live);
        Marks.Update(_read, _live);
        if (_failing) LogRecovered(_logger);
        _failing = false;
    }

    /// <summary>Graceful stop, after the writers drained: nothing of this node is in flight; its word leaves at once.</summary>
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
            // Its floor is 0 by now (the writers drained) or its process is gone from the liveness table soon.
        }
        _stop.Dispose();
    }

    [ZLoggerMessage(LogLevel.Warning, "read marks: Redis did not answer ({error}); reads keep the other nodes' last marks for {validity} s, then are bounded by this node's own watermark")]
    private static partial void LogFailing(ILogger logger, string error, double validity);

    [ZLoggerMessage(LogLevel.Information, "read marks: Redis answers again")]
    private static partial void LogRecovered(ILogger logger);
}
