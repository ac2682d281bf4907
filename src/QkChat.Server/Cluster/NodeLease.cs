using Microsoft.Extensions.Logging;
using QkChat.Core.Messaging;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Cluster;

/// <summary>
/// This node's number (0-15), leased in Redis so no two live nodes share it (protocol.md §12; docs/cluster.md).
/// The lease is one key per number, `qk:node:{N}`, holding this process's token with a TTL: taken with SET NX PX,
/// renewed every third of the TTL by a task on the thread pool (never a reactor), deleted on a graceful stop.
/// Ids are minted only while the <see cref="Permit"/> is open: it is opened up to 90 % of the TTL past the moment a
/// renewal was sent, so it closes before Redis could let the key lapse and hand the number to another node.
/// </summary>
public sealed partial class NodeLease : IAsyncDisposable
{
    // Only the holder's own token renews or deletes the key. 2: the key had vanished (Redis restarted without the
    // data, or it lapsed while this node was paused) and was taken again, which is safe because nobody held it.
    private const string RenewScript = """
        local v = redis.call('GET', KEYS[1])
        if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly string _token;
    private readonly TimeSpan _ttl;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private Task _renewals = Task.CompletedTask;
    private bool _failing;

    private NodeLease(IConnectionMultiplexer redis, int nodeId, string token, TimeSpan ttl, ILogger logger)
    {
        _redis = redis;
        NodeId = nodeId;
        _token = token;
        _ttl = ttl;
        _logger = logger;
        Incarnation = IncarnationOf(token)!;
    }

    public int NodeId { get; }

    /// <summary>
    /// This process's holding of the number: the random last word of the lease value, different for every process that
    /// ever leases the number. Registry and presence entries carry it, so that reaping a dead process's entries never
    /// removes those of a new process that took the number at once (docs/cluster.md, "Node death").
    /// </summary>
    public string Incarnation { get; }

    /// <summary>Where this process serves (host:port, the lease value's first word): a later process of the deployment
    /// publishing from the same place retires this one's read mark (docs/cluster.md "Read marks").</summary>
    public string Where => _token[.._token.IndexOf(" pid ", StringComparison.Ordinal)];

    /// <summary>The incarnation in a lease value (its last word), or null for no value.</summary>
    public static string? IncarnationOf(string? leaseValue) =>
        leaseValue is null ? null : leaseValue[(leaseValue.LastIndexOf(' ') + 1)..];

    /// <summary>Open while the lease is known to hold; MessageIds mints only then.</summary>
    public NodeIdPermit Permit { get; } = NodeIdPermit.Closed();

    /// <summary>Cancelled when Redis says another node holds this number: the server stops (docs/cluster.md).</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Renewals that Redis did not answer (each is retried at the next period).</summary>
    public long RenewalFailures => Interlocked.Read(ref _renewalFailures);
    private long _renewalFailures;

    /// <summary>Times the key had vanished (Redis lost it) and was taken again.</summary>
    public long Retaken => Interlocked.Read(ref _retaken);
    private long _retaken;

    public TimeSpan RenewalPeriod => _ttl / 3;

    public static RedisKey Key(int nodeId) => "qk:node:{" + nodeId + "}";

    /// <summary>Stands while a reap of the number's dead devices is under way or failed (RedisPresenceDirectory.Reap.cs):
    /// every node's liveness tick retries the reap while it stands. The number's tag: the slot of its lease key.</summary>
    public static RedisKey ReapingKey(int nodeId) => "qk:node:{" + nodeId + "}:reaping";

    /// <summary>
    /// Raised on the renewing task when a renewal found the key gone and took it again (Redis lost its data without this
    /// node losing its connection, or the key lapsed while this node stalled): the registry and presence entries are
    /// presumably gone too, or reaped by a node that saw the number without a lease, so the devices are written again at
    /// once (ClusterDelivery). The handler queues its work and returns.
    /// </summary>
    public event Action? KeyRetaken;

    /// <summary>
    /// Takes <paramref name="options"/>' fixed number, or the first free one for "auto". Throws NodeIdUnavailableException naming
    /// the number and the fix when it is held (or all 16 are).
    /// </summary>
    public static async Task<NodeLease> AcquireAsync(IConnectionMultiplexer redis, NodeOptions options, string where, ILogger logger,
        CancellationToken ct)
    {
        var ttl = TimeSpan.FromSeconds(options.LeaseTtlSeconds);
        string token = $"{where} pid {Environment.ProcessId} {Guid.NewGuid().ToString("N")[..8]}";
        var db = redis.GetDatabase();
        int? fixedId = options.FixedId;
        IEnumerable<int> candidates = fixedId is { } f ? [f] : Enumerable.Range(0, MessageIds.MaxNode + 1);
        foreach (int id in candidates)
        {
            ct.ThrowIfCancellationRequested();
            long sentAt = Environment.TickCount64;
            if (await db.StringSetAsync(Key(id), token, ttl, When.NotExists))
            {
                var lease = new NodeLease(redis, id, token, ttl, logger);
                lease.Permit.OpenUntil(lease.SafeUntil(sentAt));
                LogAcquired(logger, id, fixedId is null ? "auto" : "configured", options.LeaseTtlSeconds);
                lease._renewals = Task.Run(lease.RenewLoopAsync);
                return lease;
            }
            if (fixedId is not null)
            {
                string holder = (string?)await db.StringGetAsync(Key(id)) ?? "a node that just released it";
                throw new NodeIdUnavailableException($"server.node_id={id} is held by another live node ({holder}): give this node another number " +
                    $"(QKCHAT_NODE_ID / server.node_id, 0-{MessageIds.MaxNode}) or \"auto\", or stop that node; a crashed holder's lease " +
                    $"lapses {options.LeaseTtlSeconds} s after its last renewal");
            }
        }
        throw new NodeIdUnavailableException($"all {MessageIds.MaxNode + 1} node ids are held by live nodes (keys qk:node:{{0..{MessageIds.MaxNode}}} in Redis): " +
            "a deployment has at most 16 nodes; stop one, or wait for a crashed node's lease to lapse");
    }

    // 90 % of the TTL after the renewal was sent: Redis starts its TTL when the command arrives, later than sentAt, so
    // the permit closes before the key could lapse; the 10 % covers the two clocks running at slightly different rates.
    private long SafeUntil(long sentAt) => sentAt + (long)(_ttl.TotalMilliseconds * 0.9);

    private async Task RenewLoopAsync()
    {
        using var timer = new PeriodicTimer(RenewalPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (await RenewOnceAsync() == false) return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One renewal; false when the lease is lost (another node holds the number).</summary>
    internal async Task<bool> RenewOnceAsync()
    {
        long sentAt = Environment.TickCount64;
        long result;
        try
        {
            result = (long)await _redis.GetDatabase().ScriptEvaluateAsync(RenewScript, [Key(NodeId)], [_token, (long)_ttl.TotalMilliseconds]);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Interlocked.Increment(ref _renewalFailures);
            // Once per episode: the permit closes by itself at its deadline, and the sends that fail then say why.
            if (!_failing) LogRenewalFailed(_logger, NodeId, e.Message);
            _failing = true;
            return true;
        }
        if (result == 0)
        {
            Permit.Close();
            string holder = (string?)await _redis.GetDatabase().StringGetAsync(Key(NodeId)) ?? "unknown";
            LogLost(_logger, NodeId, holder);
            _lost.Cancel();
            return false;
        }
        if (_failing) LogRenewed(_logger, NodeId);
        _failing = false;
        Permit.OpenUntil(SafeUntil(sentAt));
        if (result == 2)
        {
            Interlocked.Increment(ref _retaken);
            LogRetaken(_logger, NodeId);
            try
            {
                KeyRetaken?.Invoke();
            }
            catch (Exception e)
            {
                LogRetakenHandlerFailed(_logger, NodeId, e.Message);
            }
        }
        return true;
    }

    /// <summary>Graceful stop: no more ids, and the number is free for another node at once.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _renewals;
        Permit.Close();
        if (!IsLost)
        {
            try
            {
                await _redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [Key(NodeId)], [_token]);
                LogReleased(_logger, NodeId);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                LogReleaseFailed(_logger, NodeId, _ttl.TotalSeconds, e.Message);
            }
        }
        _stop.Dispose();
        _lost.Dispose();
    }

    [ZLoggerMessage(LogLevel.Information, "node id {nodeId} leased in Redis ({how}; lease {ttl} s, renewed every third of it)")]
    private static partial void LogAcquired(ILogger logger, int nodeId, string how, int ttl);

    [ZLoggerMessage(LogLevel.Warning, "node id {nodeId}: lease renewal failed, retrying; sends stop when the lease lapses: {error}")]
    private static partial void LogRenewalFailed(ILogger logger, int nodeId, string error);

    [ZLoggerMessage(LogLevel.Information, "node id {nodeId}: lease renewed again")]
    private static partial void LogRenewed(ILogger logger, int nodeId);

    [ZLoggerMessage(LogLevel.Warning, "node id {nodeId}: the lease key had vanished from Redis (restart without data?) and was taken again: devices are registered again now")]
    private static partial void LogRetaken(ILogger logger, int nodeId);

    [ZLoggerMessage(LogLevel.Warning, "node id {nodeId}: a handler of the lease's retaking failed: {error}")]
    private static partial void LogRetakenHandlerFailed(ILogger logger, int nodeId, string error);

    [ZLoggerMessage(LogLevel.Critical, "node id {nodeId} is now held by another node ({holder}): this node mints no more ids and stops, to be restarted under a fresh lease")]
    private static partial void LogLost(ILogger logger, int nodeId, string holder);

    [ZLoggerMessage(LogLevel.Information, "node id {nodeId} released")]
    private static partial void LogReleased(ILogger logger, int nodeId);

    [ZLoggerMessage(LogLevel.Warning, "node id {nodeId}: release failed, the lease lapses by itself within {ttl} s: {error}")]
    private static partial void LogReleaseFailed(ILogger logger, int nodeId, double ttl, string error);
}

/// <summary>The node cannot get a number: the configured one is held by a live node, or all 16 are. qkchatd exits 1 with the message.</summary>
public sealed class NodeIdUnavailableException(string message) : Exception(message);
