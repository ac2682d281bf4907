using System.Threading.Tasks.Sources;

namespace QkChat.Core.Messaging;

/// <summary>
/// Wakes one waiting loop (a write-behind writer) without allocating: an auto-reset event whose wait is a ValueTask
/// over one reused completion source. <see cref="SemaphoreSlim.WaitAsync()"/> allocated a task node each time the
/// writer went to sleep, i.e. once per batch and, at low load, once per message (issue 22). Several
/// <see cref="Set"/> calls before the wait collapse into one wake-up; the writer looks at its whole queue when it wakes.
/// Exactly one waiter at a time.
/// </summary>
internal sealed class WakeSignal : IValueTaskSource
{
    private const int Idle = 0, Signaled = 1, Waiting = 2;

    // The continuation goes to the thread pool, never inline on the thread that sets (a reactor must not run a batch).
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    /// <summary>Completes at once if set since the last wait, else when <see cref="Set"/> is called; either way it resets.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled) return ValueTask.CompletedTask;
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle) return new ValueTask(this, _core.Version);
        // Set between the two looks: the state is Signaled; take it.
        Volatile.Write(ref _state, Idle);
        return ValueTask.CompletedTask;
    }

    /// <summary>From any thread: wakes the waiter, or lets its next wait return at once.</summary>
    public void Set()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Signaled) return;
            if (state == Idle)
            {
                if (Interlocked.CompareExchange(ref _state, Signaled, Idle) == Idle) return;
                continue;
            }
            if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
            {
                _core.SetResult(true);
                return;
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
