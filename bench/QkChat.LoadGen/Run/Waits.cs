namespace QkChat.LoadGen.Run;

/// <summary>Bounded waits that end quietly at a deadline or on the hard stop (the run's report says what was missed).</summary>
public static class Waits
{
    public static async Task UntilAsync(long timestamp, CancellationToken ct)
    {
        try
        {
            await RunClock.DelayUntil(timestamp, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Hard stop: the caller carries on with its shutdown.
        }
    }

    /// <summary>Waits for <paramref name="task"/> until <paramref name="deadline"/>; true if it finished.</summary>
    public static async Task<bool> ForAsync(Task task, long deadline, CancellationToken ct)
    {
        try
        {
            long remaining = deadline - System.Diagnostics.Stopwatch.GetTimestamp();
            if (remaining <= 0) return task.IsCompleted;
            await task.WaitAsync(TimeSpan.FromSeconds(remaining / (double)System.Diagnostics.Stopwatch.Frequency), ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }
}
