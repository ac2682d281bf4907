using Microsoft.Extensions.Logging;
using QkChat.Core.Routing;
using QkChat.Transport;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Cluster;

/// <summary>
/// This node's side of the channels: the batches other nodes publish to it are handed to its devices through
/// LocalDelivery (in publish order: one message queue, handled one at a time), change notices drop cached routes,
/// and a reconnect to Redis clears the cache and writes this node's devices into the registry again.
/// </summary>
public sealed partial class ClusterDelivery
{
    /// <summary>How often the lease keys are read to know which nodes are alive: a dead node's devices are ignored within
    /// this of its lease lapsing (a node named by a fresh registry read is asked again at once if thought dead).</summary>
    public static readonly TimeSpan LivenessPeriod = TimeSpan.FromSeconds(1);

    /// <summary>Every this many liveness reads the devices of this node are written again where missing (a safety net
    /// behind the reconnect event) and expired cache entries are dropped: 30 s.</summary>
    private const int RestoreEveryTicks = 30;

    private ChannelMessageQueue? _frames;
    private ChannelMessageQueue? _changes;

    /// <summary>Subscribes, reads the liveness table, and starts the route sender; before the listener accepts anyone.</summary>
    public async Task StartAsync()
    {
        _sharded = _redis.GetServers().Any(s => s.ServerType == ServerType.Cluster);
        var subscriber = _redis.GetSubscriber();
        _frames = await subscriber.SubscribeAsync(NodeChannel(Node));
        _frames.OnMessage(OnBatch);
        _changes = await subscriber.SubscribeAsync(ChangedChannel);
        _changes.OnMessage(OnChanged);
        _redis.ConnectionRestored += OnRestored;
        _redis.ConnectionFailed += OnFailed;
        if (_lease is not null) _lease.KeyRetaken += OnLeaseRetaken;
        await RefreshLivenessAsync();
        // This number's earlier process may have crashed with devices in the tables (a restart inside the liveness
        // period goes unnoticed by the others), and nodes dead while no node ran were never reaped: both now.
        RaiseWithoutLease(Node);
        ReapDeadNodes();
        _sender = Task.Run(SendLoopAsync);
        Order.Start();
        _ticker = Task.Run(TickAsync);
        LogStarted(_logger, Node, ChannelName(Node), _sharded ? "sharded (SSUBSCRIBE/SPUBLISH)" : "plain (SUBSCRIBE/PUBLISH)");
    }

    private void OnBatch(ChannelMessage message)
    {
        // The payload as StackExchange.Redis holds it (a byte[] cast could copy it); the records are read in place.
        var value = message.Message;
        ReadOnlyMemory<byte> bytes = value.IsNull ? default : (ReadOnlyMemory<byte>)value;
        Stats.AddBatchReceived();
        if (value.IsNull || !RouteWire.Read(bytes.Span, _handler ??= new Handler(this), out _))
        {
            Stats.AddMalformed();
            LogMalformed(_logger, bytes.Length);
        }
    }

    private Handler? _handler;

    /// <summary>Hands the records of a batch to this node's devices.</summary>
    private sealed class Handler(ClusterDelivery owner) : RouteWire.IHandler
    {
        public void Deliver(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, bool droppable, long messageId)
        {
            owner.Stats.AddFrameReceived(users.Length);
            var frame = OutboundFrame.Copy(body);
            foreach (uint user in users)
            {
                // The filter of a device draining its offline queue applies here as on the sending node (messageId).
                if (owner._local.ToUser(user, frame.AddReference(), null, droppable, messageId) == 0)
                    owner.Enqueue(new Work(WorkKind.Reconcile, [user], null, false, 0));
            }
            frame.Release();
        }

        /// <summary>A push of a group's timeline goes through the group's order here, with this node's own entries.</summary>
        public void DeliverGroup(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, long groupId, long seq, bool follows)
        {
            owner.Stats.AddFrameReceived(users.Length);
            foreach (uint user in users)
                if (!owner._local.IsOnline(user)) owner.Enqueue(new Work(WorkKind.Reconcile, [user], null, false, 0));
            owner.Order.Push(new GroupSeq(groupId, seq, follows), users, OutboundFrame.Copy(body));
        }

        public void Kick(uint user, string clientId, string reason)
        {
            owner.Stats.AddKickReceived();
            owner._local.Kick(user, clientId, reason);
        }

        public void TakeOver(uint user, string clientId, string session, string? device)
        {
            owner.Stats.AddKickReceived();
            owner.TakeOver(user, clientId, session, device);
        }
    }

    private void OnChanged(ChannelMessage message)
    {
        byte[]? bytes = message.Message;
        var users = new List<uint>();
        if (bytes is null || !RouteWire.ReadChanged(bytes, users, out _)) return;
        foreach (uint user in users) _cache.TryRemove(user, out _);
    }

    /// <summary>
    /// Redis is back (StackExchange.Redis has resubscribed by itself): change notices may have been missed, so the whole
    /// cache goes, and this node's devices are written again in case Redis lost its data.
    /// </summary>
    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        _cache.Clear();
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            Stats.AddResubscribe();
            Stats.SubscriptionRestored(e.EndPoint);
        }
        LogRestoredConnection(_logger, e.ConnectionType.ToString(), e.EndPoint?.ToString() ?? "?");
        Enqueue(new Work(WorkKind.Restore, [0], null, false, 0, Reason: "Redis connection restored"));
    }

    /// <summary>
    /// A renewal found the lease key gone and took it again (docs/cluster.md, "Node ids and the lease"): Redis lost its data
    /// without a reconnect (FLUSHALL, a failover to an empty replica), or the key lapsed while this node stalled and other
    /// nodes may have reaped its devices as a dead node's. Either way the devices go back into the registry and the
    /// presence table now, not at the 30 s safety net.
    /// </summary>
    private void OnLeaseRetaken()
    {
        _cache.Clear();
        Enqueue(new Work(WorkKind.Restore, [0], null, false, 0, Reason: LeaseVanished));
    }

    private const string LeaseVanished = "the lease key had vanished";

    /// <summary>The subscription connection is lost: cross-node pushes to this node are lost until it is restored
    /// (qkchat_route_subscription_lost_seconds_total measures the gap).</summary>
    private void OnFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription) Stats.SubscriptionLost(e.EndPoint);
    }

    /// <summary>
    /// A node holds no lease: it died (its lease lapsed, seen by the liveness read), or this node starts under its number,
    /// or the periodic sweep finds it dead. Raised on the ticker's thread; the handler queues its work and returns.
    /// Every live node raises it for a dead node, about at once: the presence table makes each change count once.
    /// </summary>
    public event Action<int, bool>? NodeWithoutLease;

    /// <param name="lapsed">True when the liveness read saw the lease go (the death is news), false for the start and
    /// the periodic sweep.</param>
    private void RaiseWithoutLease(int node, bool lapsed = false)
    {
        try
        {
            NodeWithoutLease?.Invoke(node, lapsed);
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, node, e.Message);
        }
    }

    private void ReapDeadNodes()
    {
        var live = _live;
        for (int n = 0; n < live.Length; n++)
            if (!live[n]) RaiseWithoutLease(n);
    }

    private async Task RefreshLivenessAsync()
    {
        var before = _live;
        int version = Volatile.Read(ref _liveVersion);
        var (live, reaping) = await _registry.LiveNodesAsync();
        live[Node] = true;
        // The route sender confirmed a node alive while this read was on the wire (ConfirmLivenessAsync): that answer is
        // newer than this one's "dead" for it, which would otherwise drop pushes to it until the next tick and raise a reap.
        if (Volatile.Read(ref _liveVersion) != version)
        {
            var confirmed = _live;
            for (int n = 0; n < live.Length; n++) live[n] |= confirmed[n];
        }
        _live = live;
        for (int n = 0; n < live.Length; n++)
        {
            if (before[n] && !live[n]) RaiseWithoutLease(n, lapsed: true);
            // A reap of the number under way elsewhere or failed somewhere (its flag stands): retried from here too. The
            // presence worker holds at most one queued reap per number.
            else if (reaping[n]) RaiseWithoutLease(n);
        }
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(LivenessPeriod);
        int ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    await RefreshLivenessAsync();
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    // Redis is away: the last table stays; the publishes fail meanwhile anyway.
                }
                if (++ticks % RestoreEveryTicks != 0) continue;
                Enqueue(new Work(WorkKind.Restore, [0], null, false, 0, Reason: "periodic check"));
                // The safety net for a reap that failed (Redis) or a death seen by no node (all were down): an empty
                // dead node costs one SMEMBERS.
                ReapDeadNodes();
                long now = Environment.TickCount64;
                ForgetAbandonedClaims(now);
                foreach (var (user, route) in _cache)
                    if (!route.Pending && route.ExpiresAt < now) _cache.TryRemove(new KeyValuePair<uint, Route>(user, route));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Claims older than this never attached: their connection closed before the login answered.</summary>
    private const long AbandonedClaimMs = 30_000;

    /// <summary>A login whose connection closed between its registry write and its answer never attaches or detaches:
    /// its entry is deleted here (only while it is still that session's).</summary>
    private void ForgetAbandonedClaims(long now)
    {
        foreach (var (session, claim) in _claims)
        {
            if (now - claim.At < AbandonedClaimMs || !_claims.TryRemove(new KeyValuePair<string, Claim>(session, claim))) continue;
            if (claim.Taken) Enqueue(new Work(WorkKind.Unregister, [claim.User], null, false, 0, claim.ClientId, Session: session));
        }
    }

    /// <summary>
    /// After the connections closed: the route sender writes the last detaches (up to 5 s), then the subscriptions end.
    /// Whatever it could not write is ignored by the others once this node's lease is released.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _redis.ConnectionRestored -= OnRestored;
        _redis.ConnectionFailed -= OnFailed;
        if (_lease is not null) _lease.KeyRetaken -= OnLeaseRetaken;
        _work.Writer.TryComplete();
        _stop.CancelAfter(TimeSpan.FromSeconds(5));
        await _sender;
        await _stop.CancelAsync();
        await _ticker;
        try
        {
            if (_frames is not null) await _frames.UnsubscribeAsync();
            if (_changes is not null) await _changes.UnsubscribeAsync();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
        }
        while (_work.Reader.TryRead(out var left)) left.Frame?.Release();
        await Order.DisposeAsync();
        LogStopped(_logger, Stats.FramesPublished, Stats.BatchesPublished, Stats.FramesReceived, Stats.PublishFailures);
        _stop.Dispose();
    }

    [ZLoggerMessage(LogLevel.Information, "cross-node routing on: node {node} listens on {channel}, channels {mode}")]
    private static partial void LogStarted(ILogger logger, int node, string channel, string mode);

    [ZLoggerMessage(LogLevel.Warning, "cross-node routing: a handler of an event about node {node} (no lease, devices restored) failed: {error}")]
    private static partial void LogHandlerFailed(ILogger logger, int node, string error);

    [ZLoggerMessage(LogLevel.Warning, "cross-node routing: a batch of {bytes} byte(s) was not understood (another version of qkchatd?) and dropped")]
    private static partial void LogMalformed(ILogger logger, int bytes);

    [ZLoggerMessage(LogLevel.Information, "cross-node routing: Redis connection {type} to {endPoint} restored: route cache cleared, devices re-registered")]
    private static partial void LogRestoredConnection(ILogger logger, string type, string endPoint);

    [ZLoggerMessage(LogLevel.Information, "cross-node routing stopped: {published} frame(s) published in {batches} batch(es), {received} received, {failures} publish failure(s)")]
    private static partial void LogStopped(ILogger logger, long published, long batches, long received, long failures);
}
