using System.Diagnostics;

namespace QkChat.LoadGen.Run;

/// <summary>
/// The timeline every process of a run shares, anchored at one Unix-millisecond start time: connections open during
/// [start, start + ramp), the measured window is [start + ramp, start + ramp + duration), and everything is over by
/// the deadline, grace seconds later (plus the drain of the group scenario). Held as Stopwatch timestamps for cheap checks on the hot path.
/// </summary>
public sealed class RunClock
{
    /// <summary>Time after the window for in-flight requests to finish and connections to close before the run is
    /// cut short. 5 s: dozens of times a loaded server's p99.9, far below the request timeout's worst case.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <param name="drainSeconds">Added after the grace (the group scenario's --drain-seconds): time for a server that is
    /// behind to answer, push and be read by the end-of-run sync before anything counts as lost.</param>
    public RunClock(long startUnixMs, double rampSeconds, double durationSeconds, double drainSeconds = 0)
    {
        StartUnixMs = startUnixMs;
        long now = Stopwatch.GetTimestamp();
        long nowUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        StartTimestamp = now + (startUnixMs - nowUnixMs) * Stopwatch.Frequency / 1000;
        RampEndTimestamp = StartTimestamp + ToTicks(rampSeconds);
        WindowEndTimestamp = RampEndTimestamp + ToTicks(durationSeconds);
        SendsEndTimestamp = WindowEndTimestamp + ToTicks(Grace.TotalSeconds);
        DeadlineTimestamp = SendsEndTimestamp + ToTicks(drainSeconds);
        DrainSeconds = drainSeconds;
        RampSeconds = rampSeconds;
        DurationSeconds = durationSeconds;
    }

    public long StartUnixMs { get; }
    public long StartTimestamp { get; }
    public long RampEndTimestamp { get; }
    public long WindowEndTimestamp { get; }
    /// <summary>The window's end plus the grace: requests in flight at the window's end are waited for until here.</summary>
    public long SendsEndTimestamp { get; }

    /// <summary>Everything is over (the hard stop): the grace, then the drain when the scenario has one.</summary>
    public long DeadlineTimestamp { get; }

    public double DrainSeconds { get; }

    /// <summary>The clock of a run of <paramref name="options"/>: the group scenario drains after the grace
    /// (--drain-seconds); chat and mixed keep a tail after it for the end-of-run sync (PairCatchUp) and the answers to
    /// their last acknowledgements (PairAckWait.TailSeconds: 5 s with the default --request-timeout).</summary>
    public static RunClock Of(QkChat.LoadGen.Options.LoadGenOptions options, long startUnixMs) =>
        new(startUnixMs, options.RampUpSeconds, options.DurationSeconds,
            options.IsGroupScenario ? options.DrainSeconds
            : options.IsPairScenario ? QkChat.LoadGen.Scenarios.PairAckWait.TailSeconds(options.RequestTimeoutSeconds) : 0);
    public double RampSeconds { get; }
    public double DurationSeconds { get; }

    /// <summary>Whether something at <paramref name="timestamp"/> is inside the measured window. The scenarios ask it of
    /// the time a request was SENT (a message: the send time in its content), never of when its answer or push came:
    /// a request sent during the ramp and answered in the window is the ramp's, and one sent at the window's last
    /// instant and answered in the grace is the window's (docs/loadgen.md "The timeline of a run").</summary>
    public bool InWindow(long timestamp) => timestamp >= RampEndTimestamp && timestamp < WindowEndTimestamp;

    /// <summary><see cref="InWindow"/> of a time in Unix microseconds on this run's clock (<see cref="UnixMicros"/>).</summary>
    public bool InWindowUnixMicros(long unixMicros) =>
        unixMicros >= UnixMicros(RampEndTimestamp) && unixMicros < UnixMicros(WindowEndTimestamp);

    public bool WindowOver => Stopwatch.GetTimestamp() >= WindowEndTimestamp;

    public double SecondsSinceStart => (Stopwatch.GetTimestamp() - StartTimestamp) / (double)Stopwatch.Frequency;

    /// <summary>Waits until <paramref name="timestamp"/> (returns at once if it has passed).</summary>
    public static Task DelayUntil(long timestamp, CancellationToken ct)
    {
        long remaining = timestamp - Stopwatch.GetTimestamp();
        return remaining <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency), ct);
    }

    public static long ToTicks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    /// <summary>A Stopwatch timestamp as Unix microseconds on this run's clock: every process anchors the same start
    /// time, so these compare across processes (to within their wall clocks' reading jitter) and exactly within one.</summary>
    public long UnixMicros(long timestamp) =>
        StartUnixMs * 1000 + (long)((timestamp - StartTimestamp) * (1_000_000.0 / Stopwatch.Frequency));
}
