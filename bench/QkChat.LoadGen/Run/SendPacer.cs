using System.Diagnostics;

namespace QkChat.LoadGen.Run;

/// <summary>
/// The clock of the paced send loops (--rate above 0; docs/loadgen.md "Pacing"): one tick every <see cref="Tick"/> per
/// process releases, in one pass on one thread, every sender whose next request is due. It replaces a Task.Delay per
/// request per connection, which cost a timer, a timer-queue insert and removal, and a thread-pool wake-up for every
/// message: most of the generator's CPU per paced message (165-192 µs against 41-62 µs unpaced, 1,000 connections at
/// 2 msg/s). Started by the first sender of a run (<see cref="ScenarioContext.Pacer"/>); ends at the hard stop.
/// </summary>
public sealed class SendPacer
{
    /// <summary>The pacing's resolution: a request goes out at most this long after it is due. 5 ms: 1 % of the 500 ms
    /// interval of --rate 2, far below any latency the run measures (each request is timed from when it is written,
    /// not from when it was due), and 200 wake-ups a second per process whatever the connection count, against one
    /// per message (2,000 a second at 1,000 connections × 2/s).</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);

    private readonly Lock _lock = new();
    private readonly PriorityQueue<IPaced, long> _due = new();   // guarded by _lock; by due timestamp
    private bool _stopped;   // guarded by _lock

    /// <summary>What the pacer releases: called on the pacer's thread when its due time has come, with the tick's time.</summary>
    public interface IPaced
    {
        void OnDue(long now);

        /// <summary>The pacer stopped (the hard stop) with this sender still waiting: it must end its loop.</summary>
        void OnStopped();
    }

    /// <summary>Releases <paramref name="sender"/> at the first tick at or after <paramref name="due"/>.</summary>
    public void Schedule(IPaced sender, long due)
    {
        lock (_lock)
        {
            if (!_stopped)
            {
                _due.Enqueue(sender, due);
                return;
            }
        }
        sender.OnStopped();
    }

    /// <summary>Ticks until <paramref name="stop"/>. After the window the queue is empty and a tick costs a lock.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var ready = new List<IPaced>();
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = Stopwatch.GetTimestamp();
                lock (_lock)
                {
                    while (_due.TryPeek(out _, out long due) && due <= now) ready.Add(_due.Dequeue());
                }
                // Outside the lock: a sender schedules its next request from here.
                foreach (IPaced sender in ready) sender.OnDue(now);
                ready.Clear();
            }
        }
        catch (OperationCanceledException)
        {
            // The hard stop: every sender still waiting ends its loop.
            lock (_lock)
            {
                _stopped = true;
                while (_due.TryDequeue(out IPaced? sender, out _)) ready.Add(sender);
            }
            foreach (IPaced sender in ready) sender.OnStopped();
        }
    }
}
