using System.Diagnostics;
using System.Globalization;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Results;

/// <summary>A live status line, rewritten in place once a second, only for a person watching a terminal.</summary>
public sealed class ProgressLine(LoadGenOptions options, RunClock clock)
{
    private static readonly long Interval = Stopwatch.Frequency;   // once per second

    private readonly bool _enabled = !options.Quiet && !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
    private long _lastAt;
    private long _lastRoundTrips;
    private bool _written;

    public void Update(ProgressSnapshot p)
    {
        if (!_enabled) return;
        long now = Stopwatch.GetTimestamp();
        if (_lastAt != 0 && now - _lastAt < Interval) return;
        double rate = _lastAt == 0 ? 0 : (p.RoundTripsAll - _lastRoundTrips) * (double)Stopwatch.Frequency / (now - _lastAt);
        _lastAt = now;
        _lastRoundTrips = p.RoundTripsAll;
        string phase = now < clock.StartTimestamp ? "start" : now < clock.RampEndTimestamp ? "ramp" : now < clock.WindowEndTimestamp ? "measure" : "stop";
        string p99 = p.P99Us > 0 ? Report.Ms(p.P99Us) : "-";
        string text = string.Create(CultureInfo.InvariantCulture,
            $"[{clock.SecondsSinceStart,6:0.0}s {phase,-7}] open {p.Opened - p.Dropped:N0}/{options.Connections:N0}  failed {p.Failed:N0}  dropped {p.Dropped:N0}  {rate,9:N0} rt/s  p99 {p99}  errors {p.Errors:N0}");
        Console.Out.Write("\r" + text + "\u001b[K");   // carriage return, then erase what a longer line left
        _written = true;
    }

    public void Finish()
    {
        if (_written) Console.Out.WriteLine();
    }
}
