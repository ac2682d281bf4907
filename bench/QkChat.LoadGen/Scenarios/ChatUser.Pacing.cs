using System.Diagnostics;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>The send loop's pacing (--rate, --pipeline), shared by chat, mixed and group.</summary>
public sealed partial class ChatUser
{
    /// <summary>
    /// Sends until the window ends, then waits for its sends still in flight (they get until the deadline). With a
    /// rate, send n is due at a random phase + n / rate; a send that finds all --pipeline slots taken goes when one
    /// frees and the schedule restarts from there (no burst to catch up), so the achieved rate shows in sent/s.
    /// </summary>
    public Task SendLoopAsync() => PacedLoopAsync(static (user, slots) => user.BeginSend(slots));

    /// <summary>The chat pacing around any <paramref name="step"/> (one request each): the mixed and group loops.</summary>
    public Task PacedLoopAsync(Func<Task> step) => PacedLoopAsync((user, slots) => { _ = StepAsync(step, slots); });

    /// <summary>The pacing: <paramref name="start"/> begins one request, which gives its slot back when answered. With a
    /// rate, the process's <see cref="SendPacer"/> releases the sends (<see cref="PacedSends"/>); without one, the
    /// loop sends whenever a slot is free.</summary>
    private async Task PacedLoopAsync(Action<ChatUser, SemaphoreSlim> start)
    {
        int pipeline = _context.Options.Pipeline;
        // Not disposed: a send still in flight at the hard stop releases its slot later (SemaphoreSlim holds no
        // kernel handle unless asked for one).
        var slots = new SemaphoreSlim(pipeline, pipeline);
        double rate = _context.Options.Rate;
        try
        {
            if (rate > 0)
            {
                var paced = new PacedSends(this, start, slots, Math.Max(1, RunClock.ToTicks(1 / rate)));
                paced.Begin();
                await paced.Done.WaitAsync(_context.HardStop).ConfigureAwait(false);
            }
            else
            {
                RunClock clock = _context.Clock;
                while (_client.IsConnected && !clock.WindowOver)
                {
                    await slots.WaitAsync(_context.HardStop).ConfigureAwait(false);
                    if (clock.WindowOver)
                    {
                        slots.Release();
                        break;
                    }
                    start(this, slots);
                }
            }
            // Every slot back means every send has its answer (or its error).
            for (int i = 0; i < pipeline; i++) await slots.WaitAsync(_context.HardStop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The deadline: sends still unanswered count themselves.
        }
    }

    private static async Task StepAsync(Func<Task> step, SemaphoreSlim slots)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// One user's paced sends: the pacer calls <see cref="OnDue"/> when the next is due; it takes a free slot and
    /// starts the request on the pacer's thread (a send is a frame written, not a wait), then schedules the next,
    /// interval later. With every slot taken it waits for one apart from the pacer, sends as soon as it has it and
    /// restarts the schedule from then. Ends (<see cref="Done"/>) at the window's end, when the connection is gone,
    /// or at the hard stop.
    /// </summary>
    private sealed class PacedSends(ChatUser user, Action<ChatUser, SemaphoreSlim> start, SemaphoreSlim slots, long interval)
        : SendPacer.IPaced
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _due;

        public Task Done => _done.Task;

        /// <summary>The first send is due at a random phase of the interval: the users do not send in step.</summary>
        public void Begin()
        {
            _due = Stopwatch.GetTimestamp() + (long)(interval * Random.Shared.NextDouble());
            user._context.Pacer.Schedule(this, _due);
        }

        public void OnDue(long now)
        {
            while (true)
            {
                if (Ended()) return;
                if (!slots.Wait(0))
                {
                    _ = WaitForSlotAsync();
                    return;
                }
                if (!Send(now)) return;
            }
        }

        public void OnStopped() => _done.TrySetResult();

        /// <summary>Holding a slot: starts the request; true when the next is due already (the sender is behind).</summary>
        private bool Send(long now)
        {
            _due = Math.Max(_due + interval, now);
            start(user, slots);
            if (_due > now)
            {
                user._context.Pacer.Schedule(this, _due);
                return false;
            }
            return true;
        }

        private bool Ended()
        {
            if (user._client.IsConnected && !user._context.Clock.WindowOver) return false;
            _done.TrySetResult();
            return true;
        }

        private async Task WaitForSlotAsync()
        {
            try
            {
                await slots.WaitAsync(user._context.HardStop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _done.TrySetResult();
                return;
            }
            if (Ended())
            {
                slots.Release();
                return;
            }
            long now = Stopwatch.GetTimestamp();
            if (Send(now)) OnDue(now);
        }
    }
}
