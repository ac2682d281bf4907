using System.Diagnostics;

namespace QkChat.Core.Dispatch;

/// <summary>
/// The fixed latency buckets every histogram of the server shares (requests, batch commits; docs/observability.md).
/// They are the Prometheus client libraries' default buckets (5 ms to 10 s in a 1-2.5-5 series) extended by the same
/// series down to 0.1 ms: a heartbeat is answered on the reactor in tens of microseconds and a database request in a
/// few milliseconds, so the default 5 ms floor would put nearly every request of a healthy server in one bucket.
/// Fixed bounds keep recording to one comparison loop and an increment, and let buckets be summed across reactors.
/// </summary>
public static class LatencyBuckets
{
    /// <summary>Upper bounds in seconds (inclusive, Prometheus `le`); one more bucket, +Inf, follows them.</summary>
    public static readonly double[] UpperBoundsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Buckets including +Inf.</summary>
    public static readonly int Count = UpperBoundsSeconds.Length + 1;

    private static readonly long[] UpperBoundsTicks = UpperBoundsSeconds.Select(s => (long)Math.Round(s * Stopwatch.Frequency)).ToArray();

    /// <summary>The bucket of a duration in Stopwatch ticks: the first whose bound it does not exceed.</summary>
    public static int IndexOf(long elapsedTicks)
    {
        var bounds = UpperBoundsTicks;
        for (int i = 0; i < bounds.Length; i++)
            if (elapsedTicks <= bounds[i]) return i;
        return bounds.Length;
    }

    /// <summary>The bucket of a duration in seconds.</summary>
    public static int IndexOfSeconds(double seconds)
    {
        var bounds = UpperBoundsSeconds;
        for (int i = 0; i < bounds.Length; i++)
            if (seconds <= bounds[i]) return i;
        return bounds.Length;
    }

    /// <summary>
    /// The <paramref name="q"/> quantile (0 &lt; q ≤ 1) in milliseconds of the durations counted in
    /// <paramref name="buckets"/> (one count per bucket, not cumulative), or NaN when there are none. Estimated as
    /// Prometheus' histogram_quantile does: linear interpolation inside the bucket that holds the rank, from 0 for
    /// the first bucket; a rank in the +Inf bucket returns the highest finite bound (all that is known is "above it").
    /// </summary>
    public static double QuantileMs(ReadOnlySpan<long> buckets, double q)
    {
        long total = 0;
        foreach (long c in buckets) total += c;
        if (total == 0) return double.NaN;
        double rank = Math.Clamp(q, 0, 1) * total;
        long cumulative = 0;
        for (int i = 0; i < buckets.Length; i++)
        {
            long before = cumulative;
            cumulative += buckets[i];
            if (buckets[i] == 0 || cumulative < rank) continue;
            if (i >= UpperBoundsSeconds.Length) break;
            double lower = i == 0 ? 0 : UpperBoundsSeconds[i - 1], upper = UpperBoundsSeconds[i];
            return (lower + (upper - lower) * (rank - before) / buckets[i]) * 1000;
        }
        return UpperBoundsSeconds[^1] * 1000;
    }
}

/// <summary>
/// One latency histogram over <see cref="LatencyBuckets"/> that any thread may record into (the batchers: one
/// record per committed batch, so an interlocked add costs nothing that matters) and any thread may read.
/// </summary>
public sealed class LatencyHistogram
{
    private readonly long[] _buckets = new long[LatencyBuckets.Count];
    private long _sumTicks, _maxTicks;

    /// <summary>Records the time since <paramref name="startTimestamp"/> (from Stopwatch.GetTimestamp).</summary>
    public void RecordSince(long startTimestamp) => Record(Stopwatch.GetTimestamp() - startTimestamp);

    public void Record(long elapsedTicks)
    {
        if (elapsedTicks < 0) elapsedTicks = 0;
        Interlocked.Increment(ref _buckets[LatencyBuckets.IndexOf(elapsedTicks)]);
        Interlocked.Add(ref _sumTicks, elapsedTicks);
        long max;
        while (elapsedTicks > (max = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, elapsedTicks, max) != max)
        {
        }
    }

    /// <summary>Durations recorded.</summary>
    public long Count
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _buckets.Length; i++) total += Interlocked.Read(ref _buckets[i]);
            return total;
        }
    }

    public double SumSeconds => Interlocked.Read(ref _sumTicks) / (double)Stopwatch.Frequency;

    /// <summary>The longest duration recorded since start.</summary>
    public double MaxSeconds => Interlocked.Read(ref _maxTicks) / (double)Stopwatch.Frequency;

    /// <summary>The count of each bucket (not cumulative), into <paramref name="into"/> of <see cref="LatencyBuckets.Count"/>.</summary>
    public void CopyBuckets(Span<long> into)
    {
        for (int i = 0; i < _buckets.Length; i++) into[i] = Interlocked.Read(ref _buckets[i]);
    }
}
