using QkChat.LoadGen.Scenarios;

namespace QkChat.LoadGen.Results;

/// <summary>The limits a run is judged against: --max-p99-ms and --min-success (null = not asked).</summary>
public sealed record Gates(double? MaxP99Ms, double? MinSuccessPercent)
{
    public static readonly Gates None = new(null, null);
}

/// <summary>
/// How a finished result is judged: success rate, generator cost, the checks of the run itself, the gates, and the
/// exit code that follows (docs/loadgen.md "Exit codes"). Pure functions of the result, so tests can drive them.
/// </summary>
public static class Verdicts
{
    public const int Passed = 0, RunFailed = 1, Usage = 2, P99GateFailed = 3, SuccessGateFailed = 4;

    /// <summary>Pass rule of the tool: a run with more than 1% of its connections failed or dropped did not measure
    /// the load it was asked for, so its numbers are not to be quoted.</summary>
    public const double FailedConnectionTolerance = 0.01;

    /// <summary>Which latency a scenario's headline (report, p99 gate, charts) is.</summary>
    public static string HeadlineName(string scenario) => scenario switch
    {
        HeartbeatScenario.Name => "heartbeat round trip",
        "chat" => "send_message to `sent`",
        "mixed" => "every blend request",
        "group" => "send_group_message to `sent`",
        "login-storm" => "password login",
        UploadScenario.Name => "upload chunk (PATCH to its answer)",
        _ => "no latency (this scenario times nothing)",
    };

    public static LatencySummary? Headline(RunResult r) => r.Scenario == "login-storm" ? r.Storm?.Logins.LatencyUs : r.LatencyUs;

    /// <summary>
    /// Each connection attempt counts as one request (opened and held, or not), plus every request made on it
    /// (per action when recorded, else login-storm's logins and resumes, else round trips and errors). Successes
    /// are connections held to the end and OK answers, less messages answered `sent` that never arrived (lost) or
    /// arrived only by the end-of-run sync (late).
    /// </summary>
    public static SuccessRate SuccessOf(RunResult r)
    {
        long requests = r.Opened + r.Failed, ok = r.Opened - r.Dropped;
        if (r.Actions is { Count: > 0 } actions)
        {
            requests += actions.Values.Sum(a => a.Requests);
            ok += actions.Values.Sum(a => a.Ok);
        }
        else if (r.Storm is { } storm)
        {
            requests += storm.Logins.Attempted + storm.Resumes.Attempted;
            ok += storm.Logins.Succeeded + storm.Resumes.Succeeded;
        }
        else
        {
            requests += r.RoundTrips + r.ErrorCount;
            ok += r.RoundTrips;
        }
        ok = Math.Max(0, ok - (r.Chat?.Lost ?? 0) - (r.Chat?.Late ?? 0) - (r.Group?.Lost ?? 0) - (r.Group?.Late ?? 0)
            - (r.Group?.Unsynced ?? 0));
        return new SuccessRate { Requests = requests, Ok = ok, Percent = requests > 0 ? Math.Round(ok * 100.0 / requests, 3) : 0 };
    }

    /// <summary>Generator CPU per request and per message answered inside the window.</summary>
    public static void Cost(RunResult r)
    {
        if (r.Generator is not { } g) return;
        g.CpuSeconds = Math.Round(g.CpuSeconds, 3);
        g.CpuPercent = g.WindowSeconds > 0 ? Math.Round(g.CpuSeconds * 100 / g.WindowSeconds, 1) : 0;
        long requests = r.Actions is { Count: > 0 } a ? a.Values.Sum(x => x.AnsweredWindow)
            : r.Storm is { } s ? s.Logins.Succeeded + s.Resumes.Succeeded
            : r.RoundTrips;
        g.PerRequestUs = requests > 0 ? Math.Round(g.CpuSeconds * 1e6 / requests, 1) : null;
        g.PerMessageUs = r.Chat is { SentOkWindow: > 0 } c ? Math.Round(g.CpuSeconds * 1e6 / c.SentOkWindow, 1)
            : r.Group is { DeliveredWindow: > 0 } gr ? Math.Round(g.CpuSeconds * 1e6 / gr.DeliveredWindow, 1)   // per delivery: the fan-out is the work
            : null;
    }

    /// <summary>Sets Success, Gates, Passed, Verdict and ExitCode. Several failures: the lowest code wins (the run's own
    /// failure says the numbers are not to be trusted at all; then latency; then availability).</summary>
    public static void Judge(RunResult r, Gates gates)
    {
        r.Success = SuccessOf(r);
        var broken = new List<string>();      // exit 1: the run did not measure what it claims, or lost messages
        var availability = new List<string>(); // exit 1, or the success gate's business when --min-success is given
        long failed = r.Failed + r.Dropped;
        if (failed > r.Connections * FailedConnectionTolerance)
            availability.Add($"{failed} of {r.Connections} connections failed or dropped (over {FailedConnectionTolerance * 100:0.##}%)");
        if (r.Scenario == HeartbeatScenario.Name && r.RoundTrips == 0) broken.Add("no round trip completed in the measured window");
        if (r.Storm is { } storm && storm.Logins.Succeeded + storm.Resumes.Succeeded < 2L * r.Connections)
            availability.Add($"{storm.Logins.Succeeded} logins and {storm.Resumes.Succeeded} resumes of {r.Connections} each succeeded");
        if (r.Chat is { } chat)
        {
            broken.AddRange(chat.Problems(includeAvailability: false));
            availability.AddRange(chat.Problems(includeAvailability: true).Except(chat.Problems(includeAvailability: false)));
        }
        else if (r.Scenario is "chat" or "mixed") broken.Add($"no {r.Scenario} result (every worker lost)");
        if (r.Group is { } group)
        {
            broken.AddRange(group.Problems(includeAvailability: false));
            availability.AddRange(group.Problems(includeAvailability: true).Except(group.Problems(includeAvailability: false)));
        }
        else if (r.Scenario == "group") broken.Add("no group result (every worker lost)");
        if (r.Upload is { } upload) availability.AddRange(upload.Problems());
        else if (r.Scenario == UploadScenario.Name) broken.Add("no upload result (the worker was lost)");
        if (r.ErrorCount > 0) availability.Add($"{r.ErrorCount} error responses or timeouts");
        if (r.LostWorkers > 0)
            broken.Add(r.LostWorkerCauses.Count > 0 ? string.Join("; ", r.LostWorkerCauses) : $"{r.LostWorkers} workers lost");
        if (gates.MinSuccessPercent is null) broken.AddRange(availability);

        var gateFailures = new List<string>();
        bool p99Failed = false, successFailed = false;
        if (gates.MaxP99Ms is not null || gates.MinSuccessPercent is not null)
        {
            LatencySummary? headline = Headline(r);
            r.Gates = new GateResult
            {
                MaxP99Ms = gates.MaxP99Ms, MinSuccessPercent = gates.MinSuccessPercent,
                HeadlineLatency = HeadlineName(r.Scenario), P99Ms = headline is null ? null : headline.P99 / 1000.0,
            };
            if (gates.MaxP99Ms is { } max && !(r.Gates.P99Ms <= max))
            {
                p99Failed = true;
                gateFailures.Add(r.Gates.P99Ms is { } p
                    ? $"p99 gate: {HeadlineName(r.Scenario)} p99 {p:0.###} ms is above {max:0.###} ms"
                    : "p99 gate: no latency was measured");
            }
            if (gates.MinSuccessPercent is { } min && r.Success.Percent < min)
            {
                successFailed = true;
                gateFailures.Add($"success gate: {r.Success.Percent:0.###}% is below {min:0.###}% ({string.Join("; ", availability.DefaultIfEmpty("no other failure"))})");
            }
            r.Gates.P99Passed = !p99Failed;
            r.Gates.SuccessPassed = !successFailed;
        }
        r.ExitCode = ExitCode(broken.Count > 0, p99Failed, successFailed);
        r.Passed = r.ExitCode == Passed;
        r.Verdict = r.Passed ? "completed" : string.Join("; ", broken.Concat(gateFailures));
    }

    public static int ExitCode(bool runFailed, bool p99Failed, bool successFailed) =>
        runFailed ? RunFailed : p99Failed ? P99GateFailed : successFailed ? SuccessGateFailed : Passed;

    /// <summary>A sweep's exit code: the lowest non-zero code of its levels (0 when all passed).</summary>
    public static int Combine(IEnumerable<int> codes) => codes.Where(c => c != Passed).DefaultIfEmpty(Passed).Min();
}
