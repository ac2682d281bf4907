namespace QkChat.Core.Messaging;

/// <summary>
/// Message totals for the metrics (issue 8) that the batchers do not already count (stored = the message batcher's
/// Written, delivered = the ack batcher's Written). These change on thread-pool paths, not on a reactor's hot loop,
/// so one shared Interlocked counter each is cheaper than per-reactor arrays and exact.
/// </summary>
public sealed class MessageCounters
{
    private long _queuedOffline, _offlinePushed, _read;

    /// <summary>Messages stored while their receiver had no device online: they wait for the next login.</summary>
    public long QueuedOffline => Interlocked.Read(ref _queuedOffline);

    /// <summary>Messages pushed to a device in an offline batch at or after its login.</summary>
    public long OfflinePushed => Interlocked.Read(ref _offlinePushed);

    /// <summary>Messages marked read (mark_read rows changed).</summary>
    public long Read => Interlocked.Read(ref _read);

    internal void AddQueuedOffline() => Interlocked.Increment(ref _queuedOffline);
    internal void AddOfflinePushed(int n) => Interlocked.Add(ref _offlinePushed, n);
    internal void AddRead(int n) => Interlocked.Add(ref _read, n);
}
