using System.Collections.Concurrent;
using System.Net;

namespace QkChat.Server.Cluster;

/// <summary>Cross-node routing counters (/metrics: qkchat_route_*; docs/cluster.md, "What to watch").</summary>
public sealed class RouteStats
{
    private long _framesPublished, _batchesPublished, _publishFailures, _failedRounds, _batchesReceived, _framesReceived,
        _kicksSent, _kicksReceived, _resubscribes, _dropped, _cleaned, _restored, _malformed, _pushesReceived;

    /// <summary>What the group push order did (qkchat_group_order_*); set by ClusterDelivery.</summary>
    public QkChat.Core.Routing.GroupOrderStats? GroupOrder { get; internal set; }

    /// <summary>Deliver records published (one frame body to one node, for any number of its users).</summary>
    public long FramesPublished => Interlocked.Read(ref _framesPublished);
    public long BatchesPublished => Interlocked.Read(ref _batchesPublished);
    public long PublishFailures => Interlocked.Read(ref _publishFailures);

    /// <summary>Rounds of the route sender that failed (Redis): their pushes are lost, at-most-once.</summary>
    public long FailedRounds => Interlocked.Read(ref _failedRounds);
    public long BatchesReceived => Interlocked.Read(ref _batchesReceived);
    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Users named in the frames received (deliver and group records): the pushes that crossed nodes through
    /// Redis to this node, issue 19's "cross-node push rate" as the receiving side counts it.</summary>
    public long PushesReceived => Interlocked.Read(ref _pushesReceived);
    public long KicksSent => Interlocked.Read(ref _kicksSent);
    public long KicksReceived => Interlocked.Read(ref _kicksReceived);

    /// <summary>Times the subscription connection came back after a loss (Redis restarted or the link broke).</summary>
    public long Resubscribes => Interlocked.Read(ref _resubscribes);

    /// <summary>
    /// Seconds this node's pub/sub connection was lost, summed over episodes (and over Redis endpoints on a Cluster), the
    /// current episode included: the gap in cross-node pushes a Redis restart or a broken link costs (docs/cluster.md).
    /// </summary>
    public double SubscriptionLostSeconds
    {
        get
        {
            long now = Environment.TickCount64, open = 0;
            foreach (long since in _lostSince.Values) open += now - since;
            return (Interlocked.Read(ref _lostMs) + open) / 1000.0;
        }
    }

    // Per endpoint: when its subscription connection failed (removed when it is restored).
    private readonly ConcurrentDictionary<string, long> _lostSince = new();
    private long _lostMs;

    /// <summary>Cross-node work dropped because the route sender's queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Registry entries deleted because their node's lease was gone or the node did not hold the device.</summary>
    public long Cleaned => Interlocked.Read(ref _cleaned);

    /// <summary>Devices of this node written into the registry again after Redis lost them.</summary>
    public long Restored => Interlocked.Read(ref _restored);
    public long Malformed => Interlocked.Read(ref _malformed);

    internal void AddFramePublished() => Interlocked.Increment(ref _framesPublished);
    internal void AddBatches(int n) => Interlocked.Add(ref _batchesPublished, n);
    internal void AddPublishFailures(int n) => Interlocked.Add(ref _publishFailures, n);
    internal void AddFailedRound() => Interlocked.Increment(ref _failedRounds);
    internal void AddBatchReceived() => Interlocked.Increment(ref _batchesReceived);
    internal void AddFrameReceived(int users)
    {
        Interlocked.Increment(ref _framesReceived);
        Interlocked.Add(ref _pushesReceived, users);
    }
    internal void AddKickSent() => Interlocked.Increment(ref _kicksSent);
    internal void AddKickReceived() => Interlocked.Increment(ref _kicksReceived);
    internal void AddResubscribe() => Interlocked.Increment(ref _resubscribes);

    internal void SubscriptionLost(EndPoint? endPoint) => _lostSince.TryAdd(endPoint?.ToString() ?? "", Environment.TickCount64);

    internal void SubscriptionRestored(EndPoint? endPoint)
    {
        if (_lostSince.TryRemove(endPoint?.ToString() ?? "", out long since)) Interlocked.Add(ref _lostMs, Environment.TickCount64 - since);
    }
    internal void AddDropped() => Interlocked.Increment(ref _dropped);
    internal void AddCleaned() => Interlocked.Increment(ref _cleaned);
    internal void AddRestored(int n) => Interlocked.Add(ref _restored, n);
    internal void AddMalformed() => Interlocked.Increment(ref _malformed);
}
