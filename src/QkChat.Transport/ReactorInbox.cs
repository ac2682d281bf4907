using System.Collections.Concurrent;

namespace QkChat.Transport;

internal enum WorkKind : byte
{
    Open,
    ReceiveReady,
    SendCompleted,
    Send,
    Close,
    Resume,
    Callback,
    Tick,
    Invoke,
    Stop,
}

/// <summary>One unit of work for a reactor. A struct, so posting it allocates nothing.</summary>
internal readonly record struct ReactorWork(
    WorkKind Kind, Connection? Connection = null, OutboundFrame? Frame = null,
    Action<Connection, object?>? Callback = null, object? State = null, CloseReason Reason = default, bool Droppable = false);

/// <summary>
/// Multi-producer, single-consumer inbox that is lock-free on the producer side: a ConcurrentQueue plus an
/// Interlocked "scheduled" flag, so only the producer that finds the reactor asleep pays for the wake-up signal
/// (the shape of Kestrel's IOQueue). System.Threading.Channels would take a short lock on every write.
/// </summary>
internal sealed class ReactorInbox
{
    private readonly ConcurrentQueue<ReactorWork> _queue = new();
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private int _scheduled;

    public int Count => _queue.Count;

    public void Post(in ReactorWork work)
    {
        _queue.Enqueue(work);
        if (Interlocked.Exchange(ref _scheduled, 1) == 0) _signal.Set();
    }

    /// <summary>Blocks the reactor until work may be there, then clears the flag before the caller drains.</summary>
    public void Wait()
    {
        _signal.Wait();
        _signal.Reset();
        // Cleared before draining: a producer that enqueues after this point sets the signal again, so its
        // item is either seen by the drain that follows or wakes the next Wait. No wake-up is lost.
        Volatile.Write(ref _scheduled, 0);
    }

    public bool TryTake(out ReactorWork work) => _queue.TryDequeue(out work);
}
