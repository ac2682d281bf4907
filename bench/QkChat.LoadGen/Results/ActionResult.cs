using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Results;

/// <summary>One protocol action's outcomes, summed over workers (chat, mixed).</summary>
public sealed class ActionResult
{
    /// <summary>Requests that got an answer or a client-side failure (timeout, unanswered at the deadline), whole run.
    /// Requests on a connection the server dropped are counted as drops instead.</summary>
    public long Requests { get; set; }
    public long Ok { get; set; }
    public Dictionary<string, long> Errors { get; set; } = [];

    /// <summary>Answers (any) and OK answers inside the measured window; per_s is OK answers per second of it.</summary>
    public long AnsweredWindow { get; set; }
    public long OkWindow { get; set; }
    public double PerS { get; set; }

    /// <summary>OK answers inside the window (login: the whole run), microseconds.</summary>
    public LatencySummary? LatencyUs { get; set; }
    public long[][]? HistogramPairs { get; set; }

    public long ErrorCount => Errors.Values.Sum();

    public static Dictionary<string, ActionResult> Merge(IEnumerable<Dictionary<string, ActionResult>?> parts)
    {
        var merged = new Dictionary<string, ActionResult>(StringComparer.Ordinal);
        var histograms = new Dictionary<string, HdrHistogram.LongConcurrentHistogram>(StringComparer.Ordinal);
        foreach (Dictionary<string, ActionResult>? part in parts)
        {
            if (part is null) continue;
            foreach (var (name, a) in part)
            {
                if (!merged.TryGetValue(name, out ActionResult? into))
                {
                    merged[name] = into = new ActionResult();
                    histograms[name] = RunStats.NewHistogram();
                }
                into.Requests += a.Requests;
                into.Ok += a.Ok;
                into.AnsweredWindow += a.AnsweredWindow;
                into.OkWindow += a.OkWindow;
                foreach (var (code, n) in a.Errors) into.Errors[code] = into.Errors.GetValueOrDefault(code) + n;
                HistogramCodec.AddPairs(histograms[name], a.HistogramPairs);
            }
        }
        foreach (var (name, h) in histograms) merged[name].HistogramPairs = HistogramCodec.ToPairs(h);
        return merged;
    }

    /// <summary>Rate and percentiles; the bucket pairs stay until the charts have been drawn (<see cref="Charts"/>).</summary>
    public void Finish(double durationS)
    {
        PerS = durationS > 0 ? Math.Round(OkWindow / durationS, 1) : 0;
        var histogram = RunStats.NewHistogram();
        HistogramCodec.AddPairs(histogram, HistogramPairs);
        LatencyUs = HistogramCodec.Summarize(histogram);
    }
}

/// <summary>What the load generator itself cost: CPU of all its processes over the measured window.</summary>
public sealed class GeneratorCost
{
    public int Processes { get; set; }

    /// <summary>utime + stime of every process of the run (coordinator and workers) inside the window.</summary>
    public double CpuSeconds { get; set; }

    /// <summary>Seconds the CPU was measured over: the window, or less when the scenario ended early (login-storm).</summary>
    public double WindowSeconds { get; set; }

    /// <summary>CPU seconds / window seconds, in percent of one core.</summary>
    public double CpuPercent { get; set; }

    /// <summary>Generator CPU per request answered inside the window (every action, acks included), microseconds.</summary>
    public double? PerRequestUs { get; set; }

    /// <summary>chat, mixed: generator CPU per message answered `sent` inside the window, microseconds. Compare it
    /// with the server's CPU per message before quoting server figures from a shared machine.</summary>
    public double? PerMessageUs { get; set; }
}
