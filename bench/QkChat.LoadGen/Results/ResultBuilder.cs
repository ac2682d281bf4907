using HdrHistogram;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;
using QkChat.LoadGen.Scenarios;
using QkChat.Protocol;

namespace QkChat.LoadGen.Results;

/// <summary>Turns one process's counters into a <see cref="RunResult"/>, merges the workers' results, and judges the run.</summary>
public static class ResultBuilder
{
    public static RunResult FromProcess(LoadGenOptions options, ScenarioContext context, IScenario scenario)
    {
        RunStats stats = context.Stats;
        return new RunResult
        {
            Scenario = options.Scenario,
            Target = string.Join(',', options.Targets),
            Connections = context.Share.Connections,
            DurationS = options.DurationSeconds,
            RampUpS = options.RampUpSeconds,
            Pipeline = options.Pipeline,
            Workers = 1,
            StartUnixMs = context.Clock.StartUnixMs,
            Opened = stats.Opened,
            Failed = stats.Failed,
            Dropped = stats.Dropped,
            ConnectFailures = stats.ConnectFailuresByReason,
            Drops = stats.DropsByReason,
            RoundTrips = stats.RoundTripsWindow,
            Errors = stats.ErrorsByCode,
            ErrorCount = stats.Errors,
            Client = scenario.ClientMemory,
            Storm = scenario.Storm,
            Chat = scenario.Chat,
            Group = scenario.Group,
            Upload = scenario.Upload,
            Mix = options.Scenario == "mixed" ? options.Mix.ToString() : null,
            Actions = context.Actions.ToResults() is { Count: > 0 } actions ? actions : null,
            Keepalive = options.KeepsAlive
                ? new KeepaliveResult { IntervalS = options.KeepaliveSeconds, Sent = stats.KeepaliveSent, Answered = stats.KeepaliveOk, Failed = stats.KeepaliveFailed }
                : null,
            HistogramPairs = HistogramCodec.ToPairs(stats.Latency),
            SeriesPairs = stats.Series?.ToPairs(),
        };
    }

    /// <summary>Sums the workers' counts and histograms; <paramref name="lostConnections"/> belong to workers that sent nothing.</summary>
    public static RunResult Merge(IReadOnlyList<RunResult> parts, LoadGenOptions options, long startUnixMs, int lostWorkers,
        long lostConnections)
    {
        var merged = new RunResult
        {
            Scenario = options.Scenario,
            Target = string.Join(',', options.Targets),
            Connections = options.Connections,
            DurationS = options.DurationSeconds,
            RampUpS = options.RampUpSeconds,
            Pipeline = options.Pipeline,
            Workers = options.EffectiveWorkers,
            StartUnixMs = startUnixMs,
            LostWorkers = lostWorkers,
            Failed = lostConnections,
            Mix = parts.Select(p => p.Mix).FirstOrDefault(m => m is not null),
        };
        if (lostConnections > 0) merged.ConnectFailures["WorkerLost"] = lostConnections;
        var histogram = RunStats.NewHistogram();
        foreach (RunResult part in parts)
        {
            merged.Opened += part.Opened;
            merged.Failed += part.Failed;
            merged.Dropped += part.Dropped;
            merged.RoundTrips += part.RoundTrips;
            merged.ErrorCount += part.ErrorCount;
            AddAll(merged.ConnectFailures, part.ConnectFailures);
            AddAll(merged.Drops, part.Drops);
            AddAll(merged.Errors, part.Errors);
            HistogramCodec.AddPairs(histogram, part.HistogramPairs);
            if (part.Keepalive is { } k)
            {
                merged.Keepalive ??= new KeepaliveResult { IntervalS = k.IntervalS };
                merged.Keepalive.Sent += k.Sent;
                merged.Keepalive.Answered += k.Answered;
                merged.Keepalive.Failed += k.Failed;
            }
            if (part.Client is { } c)
            {
                merged.Client ??= new ClientMemory();
                merged.Client.Connections += c.Connections;
                merged.Client.RssDeltaBytes += c.RssDeltaBytes;
                merged.Client.ManagedDeltaBytes += c.ManagedDeltaBytes;
            }
        }
        merged.HistogramPairs = HistogramCodec.ToPairs(histogram);
        merged.SeriesPairs = MergeSeries(parts.Select(p => p.SeriesPairs));
        if (parts.Any(p => p.Actions is not null)) merged.Actions = ActionResult.Merge(parts.Select(p => p.Actions));
        foreach (GeneratorCost g in parts.Select(p => p.Generator).OfType<GeneratorCost>())
        {
            merged.Generator ??= new GeneratorCost();
            merged.Generator.Processes += g.Processes;
            merged.Generator.CpuSeconds += g.CpuSeconds;
            merged.Generator.WindowSeconds = Math.Max(merged.Generator.WindowSeconds, g.WindowSeconds);
        }
        if (parts.Any(p => p.Storm is not null)) merged.Storm = StormResult.Merge(parts.Select(p => p.Storm).OfType<StormResult>());
        if (parts.Any(p => p.Chat is not null)) merged.Chat = ChatResult.Merge(parts.Select(p => p.Chat).OfType<ChatResult>());
        if (parts.Any(p => p.Group is not null)) merged.Group = GroupResult.Merge(parts.Select(p => p.Group).OfType<GroupResult>());
        // upload runs in one process (the option check refuses --workers above 1).
        merged.Upload = parts.Select(p => p.Upload).FirstOrDefault(u => u is not null);
        return merged;
    }

    /// <summary>Per second, the workers' buckets added together.</summary>
    private static long[][][]? MergeSeries(IEnumerable<long[][][]?> parts)
    {
        long[][][][] present = [.. parts.OfType<long[][][]>()];
        if (present.Length == 0) return null;
        int seconds = present.Max(p => p.Length);
        var merged = new long[seconds][][];
        for (int i = 0; i < seconds; i++)
        {
            var h = LatencySeries.NewHistogram();
            foreach (long[][][] part in present)
                if (i < part.Length) HistogramCodec.AddPairs(h, part[i]);
            merged[i] = HistogramCodec.ToPairs(h);
        }
        return merged;
    }

    /// <summary>Derived figures (rates, percentiles, per-connection memory, charts, generator cost) and the verdict
    /// behind the exit code, with the gates of <paramref name="gates"/> when given.</summary>
    public static void Finish(RunResult result, Gates? gates = null)
    {
        result.RoundTripsPerS = result.DurationS > 0 ? Math.Round(result.RoundTrips / result.DurationS, 1) : 0;
        var histogram = RunStats.NewHistogram();
        HistogramCodec.AddPairs(histogram, result.HistogramPairs);
        result.LatencyUs = HistogramCodec.Summarize(histogram);
        result.HistogramBase64 = histogram.TotalCount > 0 ? HistogramCodec.Encode(histogram) : null;
        result.Percentiles = [];
        if (histogram.TotalCount > 0) result.Percentiles.Add(Charts.Curve(Verdicts.HeadlineName(result.Scenario), histogram));
        if (result.Chat is { } chat0) Charts.AddCurve(result.Percentiles, "delivery (send to push)", chat0.DeliveryHistogramPairs);
        if (result.Group is { } group0)
        {
            Charts.AddCurve(result.Percentiles, "delivery to each member", group0.DeliveryHistogramPairs);
            Charts.AddCurve(result.Percentiles, "delivery to the last member", group0.LastMemberHistogramPairs);
        }
        if (result.Storm is { } storm0) Charts.AddCurve(result.Percentiles, "password login", storm0.Logins.HistogramPairs);
        // Busiest action first: the order of the curves and the legend stays the same from run to run.
        foreach (var (name, action) in (result.Actions ?? []).OrderByDescending(p => p.Value.Requests).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            action.Finish(result.DurationS);
            // Logins wait behind password hashes (seconds): on one axis with millisecond actions they would flatten them.
            if (result.Scenario == "mixed" && name != Actions.Login) Charts.AddCurve(result.Percentiles, name, action.HistogramPairs);
            action.HistogramPairs = null;
        }
        result.LatencyOverTime = Charts.Timeline(result.SeriesPairs);
        result.SeriesPairs = null;
        result.HistogramPairs = null;
        result.Storm?.Finish();
        // mixed: the headline is every blend request; the chat figures keep send_message's own latency.
        result.Chat?.Finish(result.DurationS,
            result.Scenario == "mixed" ? result.Actions?.GetValueOrDefault(Actions.SendMessage)?.LatencyUs : result.LatencyUs);
        result.Group?.Finish(result.DurationS, result.LatencyUs);
        result.Upload?.Finish();
        Verdicts.Cost(result);
        if (result.Client is { Connections: > 0 } client)
        {
            client.RssPerConnectionBytes = client.RssDeltaBytes / client.Connections;
            client.ManagedPerConnectionBytes = client.ManagedDeltaBytes / client.Connections;
        }

        Verdicts.Judge(result, gates ?? Gates.None);
    }

    private static void AddAll(Dictionary<string, long> into, Dictionary<string, long> from)
    {
        foreach (var (key, value) in from) into[key] = into.GetValueOrDefault(key) + value;
    }
}
