using System.Collections.Concurrent;
using System.Diagnostics;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>The paced senders' one tick per process (docs/loadgen.md "Pacing").</summary>
public sealed class SendPacerTests
{
    private sealed class Sender(string name, ConcurrentQueue<string> log) : SendPacer.IPaced
    {
        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnDue(long now)
        {
            log.Enqueue(name);
            Released.TrySetResult();
        }

        public void OnStopped() => Stopped.TrySetResult();
    }

    [Fact(Timeout = 30_000)]
    public async Task Due_senders_are_released_together_in_due_order_and_the_rest_are_stopped_at_the_hard_stop()
    {
        var log = new ConcurrentQueue<string>();
        var pacer = new SendPacer();
        Sender late = new("late", log), first = new("first", log), second = new("second", log);
        long now = Stopwatch.GetTimestamp();
        // Queued before the pacer runs: all due by its first tick, released in one pass, earliest due first.
        pacer.Schedule(second, now - 1);
        pacer.Schedule(late, now + Stopwatch.Frequency * 3600);
        pacer.Schedule(first, now - 2);
        using var stop = new CancellationTokenSource();
        Task running = pacer.RunAsync(stop.Token);

        await Task.WhenAll(first.Released.Task, second.Released.Task).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(["first", "second"], log.ToArray());

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        // The one not due yet is told to end its loop, and so is one scheduled after the stop.
        await late.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Sender after = new("after", log);
        pacer.Schedule(after, now);
        Assert.True(after.Stopped.Task.IsCompleted);
        Assert.False(late.Released.Task.IsCompleted || after.Released.Task.IsCompleted);
    }
}
