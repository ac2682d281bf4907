using System.Collections.Concurrent;
using HdrHistogram;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>chat: this process's counters beyond <see cref="RunStats"/> (which holds the send latency and errors).
/// Updated from many connections at once, so every field is changed with Interlocked only.</summary>
public sealed class ChatCounters
{
    public long Sent, SentOk, SentOkWindow, SendErrors, DeliveredWindow, Stale, AcksSent, AcksOk, AckedIds, AckedIdsWindow,
        StatusDelivered, LoginsOk, PairsChatting, OfflinePushed, OfflineDuplicates, BusyRetries;

    /// <summary>Send request to the receiver's push, microseconds, for pushes arriving inside the window.</summary>
    public LongConcurrentHistogram DeliveryLatency { get; } = RunStats.NewHistogram();
}

/// <summary>
/// The acknowledgement cadence of the chat scenario: a connection with ids to acknowledge queues itself here, and a
/// tick every 10 ms sends one `message_ack` per queued connection with everything that arrived meanwhile (a
/// connection with 50 waiting sends at once instead). One timer per process instead of one per connection: at
/// 10,000 connections, per-connection timers would cost more than the acks. 10 ms: far below any latency a person
/// notices in a "delivered" tick, and at a few messages per second per user most acks still carry one id.
/// </summary>
public sealed class AckTicker
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    /// <summary>Ids waiting on one connection that make it acknowledge at once, without waiting for the tick.</summary>
    public const int FlushAt = 50;

    private readonly ConcurrentQueue<ChatUser> _queued = new();

    public void Enqueue(ChatUser user) => _queued.Enqueue(user);

    /// <summary>Ticks until <paramref name="stop"/>; each tick flushes the connections queued before it began.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                for (int n = _queued.Count; n > 0 && _queued.TryDequeue(out ChatUser? user); n--) user.FlushFromTick();
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
