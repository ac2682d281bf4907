using HdrHistogram;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;
using QkChat.LoadGen.Scenarios;

namespace QkChat.LoadGen.Results;

/// <summary>Turns one process's counters into a <see cref="RunResult"/>, merges the workers' results, and judges the run.</summary>
public static class ResultBuilder
{
    /// <summary>Pass rule of the tool (docs/loadgen.md): a run with more than 1% of its connections failed or dropped
    /// did not measure the load it was asked for, so its numbers are not to be quoted.</summary>
    public const double FailedConnectionTolerance = 0.01;

    public static RunResult FromProcess(LoadGenOptions options, ScenarioContext context, IScenario scenario)
    {
        RunStats stats = context.Stats;
        return new RunResult
        {
            Scenario = options.Scenario,
            Target = $"{options.Host}:{options.Port}",
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
            HistogramPairs = HistogramCodec.ToPairs(stats.Latency),
        };
    }

    /// <summary>Sums the workers' counts and histograms; <paramref name="lostConnections"/> belong to workers that sent nothing.</summary>
    public static RunResult Merge(IReadOnlyList<RunResult> parts, LoadGenOptions options, long startUnixMs, int lostWorkers,
        long lostConnections)
    {
        var merged = new RunResult
        {
            Scenario = options.Scenario,
            Target = $"{options.Host}:{options.Port}",
            Connections = options.Connections,
            DurationS = options.DurationSeconds,
            RampUpS = options.RampUpSeconds,
            Pipeline = options.Pipeline,
            Workers = options.EffectiveWorkers,
            StartUnixMs = startUnixMs,
            LostWorkers = lostWorkers,
            Failed = lostConnections,
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
            if (part.Client is { } c)
            {
                merged.Client ??= new ClientMemory();
                merged.Client.Connections += c.Connections;
                merged.Client.RssDeltaBytes += c.RssDeltaBytes;
                merged.Client.ManagedDeltaBytes += c.ManagedDeltaBytes;
            }
        }
        merged.HistogramPairs = HistogramCodec.ToPairs(histogram);
        if (parts.Any(p => p.Storm is not null)) merged.Storm = StormResult.Merge(parts.Select(p => p.Storm).OfType<StormResult>());
        if (parts.Any(p => p.Chat is not null)) merged.Chat = ChatResult.Merge(parts.Select(p => p.Chat).OfType<ChatResult>());
        return merged;
    }

    /// <summary>Derived figures (rates, percentiles, per-connection memory) and the verdict behind the exit code.</summary>
    public static void Finish(RunResult result)
    {
        result.RoundTripsPerS = result.DurationS > 0 ? Math.Round(result.RoundTrips / result.DurationS, 1) : 0;
        var histogram = RunStats.NewHistogram();
        HistogramCodec.AddPairs(histogram, result.HistogramPairs);
        result.LatencyUs = HistogramCodec.Summarize(histogram);
        result.HistogramBase64 = histogram.TotalCount > 0 ? HistogramCodec.Encode(histogram) : null;
        result.HistogramPairs = null;
        result.Storm?.Finish();
        result.Chat?.Finish(result.DurationS, result.LatencyUs);
        if (result.Client is { Connections: > 0 } client)
        {
            client.RssPerConnectionBytes = client.RssDeltaBytes / client.Connections;
            client.ManagedPerConnectionBytes = client.ManagedDeltaBytes / client.Connections;
        }

        long failed = result.Failed + result.Dropped;
        var problems = new List<string>();
        if (failed > result.Connections * FailedConnectionTolerance)
            problems.Add($"{failed} of {result.Connections} connections failed or dropped (over {FailedConnectionTolerance * 100:0.##}%)");
        if (result.Scenario == "heartbeat" && result.RoundTrips == 0) problems.Add("no round trip completed in the measured window");
        if (result.Storm is { } storm && storm.Logins.Succeeded + storm.Resumes.Succeeded < 2L * result.Connections)
            problems.Add($"{storm.Logins.Succeeded} logins and {storm.Resumes.Succeeded} resumes of {result.Connections} each succeeded");
        if (result.Chat is { } chat) problems.AddRange(chat.Problems());
        else if (result.Scenario == "chat") problems.Add("no chat result (every worker lost)");
        if (result.ErrorCount > 0) problems.Add($"{result.ErrorCount} error responses or timeouts");
        if (result.LostWorkers > 0) problems.Add($"{result.LostWorkers} workers lost");
        result.Passed = problems.Count == 0;
        result.Verdict = result.Passed ? "completed" : string.Join("; ", problems);
    }

    private static void AddAll(Dictionary<string, long> into, Dictionary<string, long> from)
    {
        foreach (var (key, value) in from) into[key] = into.GetValueOrDefault(key) + value;
    }
}
