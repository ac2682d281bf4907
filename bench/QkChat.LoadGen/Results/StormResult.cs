using HdrHistogram;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Results;

/// <summary>login-storm: what one phase (password logins, or token resumes) measured, summed over workers.</summary>
public sealed class StormPhase
{
    public long Attempted { get; set; }
    public long Succeeded { get; set; }

    /// <summary>SERVER_BUSY answers that were retried (--retry-busy); not errors unless the last answer was one.</summary>
    public long BusyAnswers { get; set; }
    public Dictionary<string, long> Errors { get; set; } = [];

    /// <summary>First send of the phase and last OK, Unix ms; the rate is successes over that span.</summary>
    public long StartUnixMs { get; set; }
    public long LastOkUnixMs { get; set; }
    public double PerSecond { get; set; }

    /// <summary>First send to OK, including retries after SERVER_BUSY, in microseconds.</summary>
    public LatencySummary? LatencyUs { get; set; }
    public long[][]? HistogramPairs { get; set; }
}

public sealed class StormResult
{
    public StormPhase Logins { get; set; } = new();
    public StormPhase Resumes { get; set; } = new();
    public int Observers { get; set; }

    /// <summary>Heartbeat round trips of the already connected observers during the whole run, in microseconds.</summary>
    public LatencySummary? ObserverHeartbeatUs { get; set; }
    public long[][]? ObserverHistogramPairs { get; set; }

    public static StormResult Merge(IEnumerable<StormResult> parts)
    {
        var merged = new StormResult();
        var logins = RunStats.NewHistogram();
        var resumes = RunStats.NewHistogram();
        var observers = RunStats.NewHistogram();
        foreach (StormResult part in parts)
        {
            Add(merged.Logins, part.Logins, logins);
            Add(merged.Resumes, part.Resumes, resumes);
            merged.Observers += part.Observers;
            HistogramCodec.AddPairs(observers, part.ObserverHistogramPairs);
        }
        merged.Logins.HistogramPairs = HistogramCodec.ToPairs(logins);
        merged.Resumes.HistogramPairs = HistogramCodec.ToPairs(resumes);
        merged.ObserverHistogramPairs = HistogramCodec.ToPairs(observers);
        return merged;
    }

    /// <summary>Rates and percentiles from the merged counts; the bucket pairs are dropped from the final result.</summary>
    public void Finish()
    {
        foreach (StormPhase phase in new[] { Logins, Resumes })
        {
            phase.LatencyUs = Summarize(phase.HistogramPairs);
            phase.HistogramPairs = null;
            double seconds = (phase.LastOkUnixMs - phase.StartUnixMs) / 1000.0;
            phase.PerSecond = seconds > 0 ? Math.Round(phase.Succeeded / seconds, 1) : 0;
        }
        ObserverHeartbeatUs = Summarize(ObserverHistogramPairs);
        ObserverHistogramPairs = null;
    }

    private static LatencySummary? Summarize(long[][]? pairs)
    {
        var histogram = RunStats.NewHistogram();
        HistogramCodec.AddPairs(histogram, pairs);
        return HistogramCodec.Summarize(histogram);
    }

    private static void Add(StormPhase into, StormPhase from, HistogramBase histogram)
    {
        into.Attempted += from.Attempted;
        into.Succeeded += from.Succeeded;
        into.BusyAnswers += from.BusyAnswers;
        foreach (var (code, n) in from.Errors) into.Errors[code] = into.Errors.GetValueOrDefault(code) + n;
        if (from.StartUnixMs > 0) into.StartUnixMs = into.StartUnixMs == 0 ? from.StartUnixMs : Math.Min(into.StartUnixMs, from.StartUnixMs);
        into.LastOkUnixMs = Math.Max(into.LastOkUnixMs, from.LastOkUnixMs);
        HistogramCodec.AddPairs(histogram, from.HistogramPairs);
    }
}
