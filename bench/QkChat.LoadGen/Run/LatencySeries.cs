using System.Diagnostics;
using HdrHistogram;
using QkChat.LoadGen.Results;

namespace QkChat.LoadGen.Run;

/// <summary>
/// The headline latency per second of the measured window, for the latency-over-time chart: second s holds the
/// requests sent during it (the window's rule, docs/loadgen.md "The timeline of a run"). One small histogram per
/// second (2 significant digits: 1 % resolution is finer than a chart shows, at a tenth of the memory of the main
/// histogram), created on first use, shipped between processes as bucket pairs like the others, so the per-second
/// percentiles of a run over several workers are exact.
/// </summary>
public sealed class LatencySeries
{
    public const int SignificantDigits = 2;

    private readonly long _windowStart;
    private readonly LongConcurrentHistogram?[] _seconds;

    public LatencySeries(long windowStartTimestamp, double durationSeconds)
    {
        _windowStart = windowStartTimestamp;
        _seconds = new LongConcurrentHistogram?[Math.Max(1, (int)Math.Ceiling(durationSeconds))];
    }

    public static LongConcurrentHistogram NewHistogram() => new(1, RunStats.HighestTrackableMicros, SignificantDigits);

    public void Record(long timestamp, long micros)
    {
        long second = (timestamp - _windowStart) / Stopwatch.Frequency;
        if (second < 0 || second >= _seconds.Length) return;
        LongConcurrentHistogram histogram = Volatile.Read(ref _seconds[second]) ?? Create((int)second);
        histogram.RecordValue(Math.Clamp(micros, 1, RunStats.HighestTrackableMicros));
    }

    private LongConcurrentHistogram Create(int second)
    {
        Interlocked.CompareExchange(ref _seconds[second], NewHistogram(), null);
        return _seconds[second]!;
    }

    /// <summary>Per second, its recorded buckets (empty for a second with nothing recorded).</summary>
    public long[][][] ToPairs() =>
        Array.ConvertAll(_seconds, h => h is null ? [] : HistogramCodec.ToPairs(h));
}
