namespace QkChat.LoadGen.Results;

/// <summary>
/// The outcome of a run, as written to --json and as each worker reports it to the coordinator (which merges them).
/// Counts are sums over processes; latency comes from the merged histogram. Property names are snake_case on the wire.
/// </summary>
public sealed class RunResult
{
    public string Scenario { get; set; } = "";
    public string Target { get; set; } = "";
    public int Connections { get; set; }
    public double DurationS { get; set; }
    public double RampUpS { get; set; }
    public int Pipeline { get; set; }
    public int Workers { get; set; }
    public long StartUnixMs { get; set; }

    public long Opened { get; set; }
    public long Failed { get; set; }
    public long Dropped { get; set; }
    public Dictionary<string, long> ConnectFailures { get; set; } = [];
    public Dictionary<string, long> Drops { get; set; } = [];

    /// <summary>Round trips completed inside the measured window (ramp excluded).</summary>
    public long RoundTrips { get; set; }
    public double RoundTripsPerS { get; set; }
    public LatencySummary? LatencyUs { get; set; }

    /// <summary>Error responses by code, plus client-side failures (CLIENT_TIMEOUT), at any time of the run.</summary>
    public Dictionary<string, long> Errors { get; set; } = [];
    public long ErrorCount { get; set; }

    /// <summary>Workers that never reported a result (crashed, killed at the deadline); their connections count as failed.</summary>
    public int LostWorkers { get; set; }

    /// <summary>One line per lost worker: killed by this coordinator at the teardown allowance, killed from outside
    /// (exit code 137 without our kill), or exited without a result; with its memory and last progress (WorkerFate).</summary>
    public List<string> LostWorkerCauses { get; set; } = [];

    /// <summary>Seconds from the run's deadline to each worker's result (or its end), by worker: how close each came to
    /// the teardown allowance. Null for a run in one process.</summary>
    public List<double>? WorkerEndsAfterDeadlineS { get; set; }

    public ClientMemory? Client { get; set; }

    /// <summary>login-storm: both phases and the observers' heartbeats.</summary>
    public StormResult? Storm { get; set; }

    /// <summary>chat: sends, deliveries, acknowledgements, losses and duplicates (latency_us is the send latency).</summary>
    public ChatResult? Chat { get; set; }

    /// <summary>group: entries sent, deliveries, losses, duplicates, out of order, delivery latency to each member and
    /// to the last (latency_us is the send latency).</summary>
    public GroupResult? Group { get; set; }

    /// <summary>upload: files, bytes, MB/s up and (--verify-download) down (latency_us is the per-chunk PATCH time).</summary>
    public UploadResult? Upload { get; set; }
    public ServerSamples? Server { get; set; }

    /// <summary>mixed: the blend the users drew from ("send=60,read=10,...").</summary>
    public string? Mix { get; set; }

    /// <summary>chat, mixed: every action's requests, errors and latency (login, send_message, message_ack, ...).</summary>
    public Dictionary<string, ActionResult>? Actions { get; set; }

    /// <summary>The load generator's own CPU over the window (each process reports its own; the coordinator sums).</summary>
    public GeneratorCost? Generator { get; set; }

    /// <summary>chat, mixed, group, upload: the heartbeats sent on silent connections (--keepalive), apart from the
    /// scenario's requests; null when the keepalive is off or does not apply.</summary>
    public KeepaliveResult? Keepalive { get; set; }

    /// <summary>Per-second histograms of the headline latency, as bucket pairs: between processes only.</summary>
    public long[][][]? SeriesPairs { get; set; }

    /// <summary>Per second of the window: the headline latency's count, p50 and p99 (the latency-over-time chart).</summary>
    public List<TimelinePoint>? LatencyOverTime { get; set; }

    /// <summary>Latency distributions (the percentile chart): the headline latency, and delivery or per action.</summary>
    public List<PercentileCurve>? Percentiles { get; set; }

    /// <summary>Requests that succeeded out of all made (docs/loadgen.md "Success rate").</summary>
    public SuccessRate? Success { get; set; }

    /// <summary>What --max-p99-ms and --min-success asked and found; null without gates.</summary>
    public GateResult? Gates { get; set; }

    /// <summary>The process exit code this result leads to (0 pass, 1 run failed, 3 p99 gate, 4 success gate).</summary>
    public int ExitCode { get; set; }

    /// <summary>The measured window's latency histogram (microseconds), HdrHistogram V2 compressed, base64: what
    /// HdrHistogram's log tools and plotters read. Final result only.</summary>
    public string? HistogramBase64 { get; set; }

    /// <summary>The same histogram as [value_us, count] bucket pairs: how workers hand it to the coordinator.
    /// Left out of the final result.</summary>
    public long[][]? HistogramPairs { get; set; }

    public bool Passed { get; set; }
    public string Verdict { get; set; } = "";
}

/// <summary>The keepalive's heartbeats (Run/Keepalive.cs): not requests of the scenario, so in no rate, latency,
/// action table or success rate. A failed one does not fail the run by itself: a connection the server closed for
/// idleness shows as a drop.</summary>
public sealed class KeepaliveResult
{
    /// <summary>--keepalive: the silence, in seconds, after which a connection heartbeats.</summary>
    public double IntervalS { get; set; }
    public long Sent { get; set; }
    public long Answered { get; set; }

    /// <summary>Answered with an error, or not within --request-timeout.</summary>
    public long Failed { get; set; }
}

public sealed class SuccessRate
{
    /// <summary>Every request the run made, plus one per connection that failed to open or was dropped.</summary>
    public long Requests { get; set; }

    /// <summary>OK answers, less the messages answered `sent` that never arrived.</summary>
    public long Ok { get; set; }
    public double Percent { get; set; }
}

public sealed class GateResult
{
    public double? MaxP99Ms { get; set; }
    public double? MinSuccessPercent { get; set; }

    /// <summary>Which latency the p99 gate reads (scenario-dependent, docs/loadgen.md) and its measured p99.</summary>
    public string HeadlineLatency { get; set; } = "";
    public double? P99Ms { get; set; }
    public bool P99Passed { get; set; } = true;
    public bool SuccessPassed { get; set; } = true;
}

public sealed class LatencySummary
{
    public long Count { get; set; }
    public double Mean { get; set; }
    public long P50 { get; set; }
    public long P90 { get; set; }
    public long P99 { get; set; }
    public long P999 { get; set; }
    public long Max { get; set; }
}

/// <summary>The load generator's own memory growth while holding its connections (connect scenario), summed over workers.</summary>
public sealed class ClientMemory
{
    public long Connections { get; set; }
    public long RssDeltaBytes { get; set; }
    public long ManagedDeltaBytes { get; set; }
    public long RssPerConnectionBytes { get; set; }
    public long ManagedPerConnectionBytes { get; set; }
}

/// <summary>/proc samples of the server process (--server-pid).</summary>
public sealed class ServerSamples
{
    public int Pid { get; set; }
    public List<ProcessSample> Samples { get; set; } = [];

    /// <summary>(RSS once all connections are open - RSS before) / connections open at that moment.</summary>
    public long? RssPerConnectionBytes { get; set; }

    /// <summary>Server CPU between the "open" and "end" samples, in percent of one core.</summary>
    public double? CpuPercent { get; set; }
}

public sealed class ProcessSample
{
    public string Label { get; set; } = "";
    public long AtUnixMs { get; set; }
    public long RssBytes { get; set; }
    public double CpuSeconds { get; set; }
    public long OpenConnections { get; set; }
}

/// <summary>What a worker tells the coordinator while it runs (and what the in-process run exposes the same way).</summary>
public sealed class ProgressSnapshot
{
    public long Opened { get; set; }
    public long Failed { get; set; }
    public long Dropped { get; set; }
    public long RoundTripsAll { get; set; }
    public long Errors { get; set; }
    public long P99Us { get; set; }

    /// <summary>True once every connection attempt of the process has succeeded or failed.</summary>
    public bool AllAttempted { get; set; }
}
