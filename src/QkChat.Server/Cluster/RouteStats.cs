namespace QkChat.Server.Cluster;

/// <summary>Cross-node routing counters (/metrics: qkchat_route_*; docs/cluster.md, "What to watch").</summary>
public sealed class RouteStats
{
    private long _framesPublished, _batchesPublished, _publishFailures, _failedRounds, _batchesReceived, _framesReceived,
        _kicksSent, _kicksReceived, _resubscribes, _dropped, _cleaned, _restored, _malformed;

    /// <summary>Deliver records published (one frame body to one node, for any number of its users).</summary>
    public long FramesPublished => Interlocked.Read(ref _framesPublished);
    public long BatchesPublished => Interlocked.Read(ref _batchesPublished);
    public long PublishFailures => Interlocked.Read(ref _publishFailures);

    /// <summary>Rounds of the route sender that failed (Redis): their pushes are lost, at-most-once.</summary>
    public long FailedRounds => Interlocked.Read(ref _failedRounds);
    public long BatchesReceived => Interlocked.Read(ref _batchesReceived);
    public long FramesReceived => Interlocked.Read(ref _framesReceived);
    public long KicksSent => Interlocked.Read(ref _kicksSent);
    public long KicksReceived => Interlocked.Read(ref _kicksReceived);

    /// <summary>Times the subscription connection came back after a loss (Redis restarted or the link broke).</summary>
    public long Resubscribes => Interlocked.Read(ref _resubscribes);

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
    internal void AddFrameReceived() => Interlocked.Increment(ref _framesReceived);
    internal void AddKickSent() => Interlocked.Increment(ref _kicksSent);
    internal void AddKickReceived() => Interlocked.Increment(ref _kicksReceived);
    internal void AddResubscribe() => Interlocked.Increment(ref _resubscribes);
    internal void AddDropped() => Interlocked.Increment(ref _dropped);
    internal void AddCleaned() => Interlocked.Increment(ref _cleaned);
    internal void AddRestored(int n) => Interlocked.Add(ref _restored, n);
    internal void AddMalformed() => Interlocked.Increment(ref _malformed);
}
