using HdrHistogram;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Results;

/// <summary>One second of the measured window: how many latencies were recorded and their p50 and p99.</summary>
public sealed class TimelinePoint
{
    public int Second { get; set; }
    public long Count { get; set; }
    public long P50Us { get; set; }
    public long P99Us { get; set; }
}

/// <summary>A latency distribution as (percentile, latency) points, spaced evenly in "nines" (90, 99, 99.9, ...).</summary>
public sealed class PercentileCurve
{
    public string Name { get; set; } = "";
    public List<PercentilePoint> Points { get; set; } = [];
}

public sealed class PercentilePoint
{
    public double Percentile { get; set; }
    public long LatencyUs { get; set; }
}

/// <summary>The data behind the SVG charts, computed from the merged histograms (and kept in the JSON).</summary>
public static class Charts
{
    /// <summary>Tenths of a nine: 0 %, 20.6 %, 36.9 % .. 90 % .. 99 % .. as far as the sample count supports.</summary>
    private const double NineStep = 0.1;

    /// <summary>Beyond 99.999 % a percentile of a load test is a handful of samples: the curve ends there.</summary>
    private const double MaxNines = 5;

    public static List<TimelinePoint> Timeline(long[][][]? seconds)
    {
        var points = new List<TimelinePoint>();
        if (seconds is null) return points;
        for (int i = 0; i < seconds.Length; i++)
        {
            var h = LatencySeries.NewHistogram();
            HistogramCodec.AddPairs(h, seconds[i]);
            if (h.TotalCount == 0) continue;
            points.Add(new TimelinePoint
            {
                Second = i, Count = h.TotalCount,
                P50Us = h.GetValueAtPercentile(50), P99Us = h.GetValueAtPercentile(99),
            });
        }
        return points;
    }

    /// <summary>Adds the curve of <paramref name="pairs"/> under <paramref name="name"/> when it holds any sample.</summary>
    public static void AddCurve(List<PercentileCurve> into, string name, long[][]? pairs)
    {
        var h = RunStats.NewHistogram();
        HistogramCodec.AddPairs(h, pairs);
        if (h.TotalCount > 0) into.Add(Curve(name, h));
    }

    public static PercentileCurve Curve(string name, HistogramBase h)
    {
        var curve = new PercentileCurve { Name = name };
        // With n samples the p-th percentile means something up to about log10(n) nines.
        double nines = Math.Min(MaxNines, Math.Log10(Math.Max(10, h.TotalCount)));
        for (double k = 0; k <= nines + 1e-9; k += NineStep)
        {
            double p = 100 * (1 - Math.Pow(10, -k));
            curve.Points.Add(new PercentilePoint { Percentile = Math.Round(p, 6), LatencyUs = h.GetValueAtPercentile(p) });
        }
        // The worst sample closes the curve at its last position, so the chart shows the max too.
        curve.Points[^1].LatencyUs = h.GetMaxValue();
        return curve;
    }
}
