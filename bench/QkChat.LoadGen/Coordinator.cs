using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.LoadGen.Workers;

namespace QkChat.LoadGen;

/// <summary>
/// Runs the whole thing from the process the user started: checks limits, starts the run (here or in workers),
/// samples the server, shows progress, prints the report and writes the JSON.
/// </summary>
public static class Coordinator
{
    /// <summary>Wait between the last connection attempt and the "open" server sample, so the server has accepted
    /// what the kernel already queued and its allocator has settled. 1 s: accepting a backlog of thousands takes
    /// tens of milliseconds.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    /// <summary>How often the coordinator looks at progress and the clock.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>Between the levels of a sweep: time for the server to close the previous level's connections and
    /// settle, so the next level does not start against a server still tearing down. 3 s is ample for 15,000.</summary>
    private static readonly TimeSpan LevelPause = TimeSpan.FromSeconds(3);

    /// <summary>One run, or one run per --levels entry; prints each report, then the table by level. Returns the
    /// exit code (docs/loadgen.md "Exit codes").</summary>
    public static async Task<int> RunAsync(LoadGenOptions options, CancellationToken cancel)
    {
        var results = new List<RunResult>();
        // One run per --levels connection count, or per --rate-levels rate (suffix "-rN" in the file names), or one.
        IReadOnlyList<(LoadGenOptions Run, string? Suffix)> runs =
            options.Levels.Count > 0 ? [.. options.Levels.Select(n => (options.AtLevel(n), (string?)n.ToString(CultureInfo.InvariantCulture)))]
            : options.RateLevels.Count > 0 ? [.. options.RateLevels.Select(r => (options.AtRate(r), (string?)("r" + r.ToString(CultureInfo.InvariantCulture))))]
            : [(options, null)];
        foreach ((LoadGenOptions run, string? suffix) in runs)
        {
            if (cancel.IsCancellationRequested) break;
            if (results.Count > 0) await Task.Delay(LevelPause, CancellationToken.None).ConfigureAwait(false);
            RunResult result = await RunOnceAsync(run, cancel).ConfigureAwait(false);
            results.Add(result);
            Console.Out.Write(Report.Markdown(result));
            Console.Out.WriteLine();
            await WriteFilesAsync(options, result, suffix).ConfigureAwait(false);
        }
        string table = LevelTable.Markdown(results);
        Console.Out.Write(table);
        if (runs.Count > 1 && options.JsonPath is { } json)
            await File.WriteAllTextAsync(BasePath(json) + "-levels.md", table, CancellationToken.None).ConfigureAwait(false);
        return Verdicts.Combine(results.Select(r => r.ExitCode));
    }

    /// <summary>--json FILE (FILE-N.json per level of a sweep, FILE-rR.json per rate) and the SVG charts: in --svg DIR,
    /// else beside the JSON.</summary>
    private static async Task WriteFilesAsync(LoadGenOptions options, RunResult result, string? level)
    {
        string suffix = level is { } n ? "-" + n : "";
        if (options.JsonPath is { } json)
        {
            string path = level is null ? json : BasePath(json) + suffix + ".json";
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, LoadGenJsonContext.Indented.RunResult),
                CancellationToken.None).ConfigureAwait(false);
        }
        string? dir = options.SvgDir ?? (options.JsonPath is { } j ? Path.GetDirectoryName(Path.GetFullPath(j)) : null);
        if (dir is null) return;
        string name = options.JsonPath is { } jp
            ? Path.GetFileName(BasePath(jp)) + suffix
            : string.Create(CultureInfo.InvariantCulture, $"{result.Scenario}-{result.Connections}");
        string[] files = await ChartFiles.WriteAsync(result, dir, name).ConfigureAwait(false);
        await Console.Error.WriteLineAsync("qkchat-loadgen: charts " + string.Join(", ", files)).ConfigureAwait(false);
    }

    /// <summary>FILE without its .json extension.</summary>
    private static string BasePath(string json) =>
        json.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? json[..^".json".Length] : json;

    private static async Task<RunResult> RunOnceAsync(LoadGenOptions options, CancellationToken cancel)
    {
        Preflight.Warn(options);
        ServerSamples? server = null;
        if (options.ServerPid is { } pid)
        {
            ProcessSample before = ProcSampler.Sample(pid, "before", 0)
                ?? throw new UsageException($"--server-pid {pid}: no such process readable in /proc");
            server = new ServerSamples { Pid = pid, Samples = [before] };
        }

        IRunHandle run = options.EffectiveWorkers == 1
            ? new LocalRun(options, cancel)
            : await WorkerPool.StartAsync(options, cancel).ConfigureAwait(false);
        var clock = RunClock.Of(options, run.StartUnixMs);
        // With workers this process is one more of the generator's processes: its own CPU counts too.
        CpuWindow? ownCpu = options.EffectiveWorkers > 1 ? new CpuWindow(clock, cancel) : null;
        // The end sample is taken just before connections start closing at the window's end.
        long endSampleAt = clock.WindowEndTimestamp - RunClock.ToTicks(Math.Min(0.5, options.DurationSeconds / 4));
        var progress = new ProgressLine(options, clock);
        long? allAttemptedAt = null;
        bool openSampled = false, endSampled = false;

        while (!run.Completion.IsCompleted)
        {
            await Task.WhenAny(run.Completion, Task.Delay(Tick, CancellationToken.None)).ConfigureAwait(false);
            ProgressSnapshot snapshot = run.Progress();
            progress.Update(snapshot);
            if (server is null) continue;
            long now = Stopwatch.GetTimestamp();
            if (snapshot.AllAttempted) allAttemptedAt ??= now;
            if (!openSampled && allAttemptedAt is { } at && now - at >= RunClock.ToTicks(Settle.TotalSeconds) && now < endSampleAt)
            {
                openSampled = Add(server, "open", snapshot);
            }
            if (!endSampled && now >= endSampleAt) endSampled = Add(server, "end", snapshot);
        }
        progress.Finish();

        RunResult result = await run.Completion.ConfigureAwait(false);
        if (ownCpu is not null && await ownCpu.ResultAsync().ConfigureAwait(false) is { } own)
        {
            result.Generator ??= new GeneratorCost();
            result.Generator.Processes += own.Processes;
            result.Generator.CpuSeconds += own.CpuSeconds;
            result.Generator.WindowSeconds = Math.Max(result.Generator.WindowSeconds, own.WindowSeconds);
        }
        if (server is not null)
        {
            if (!endSampled) Add(server, "end", run.Progress());
            Derive(server);
            result.Server = server;
        }
        ResultBuilder.Finish(result, new Gates(options.MaxP99Ms, options.MinSuccessPercent));
        return result;
    }

    private static bool Add(ServerSamples server, string label, ProgressSnapshot snapshot)
    {
        if (ProcSampler.Sample(server.Pid, label, snapshot.Opened - snapshot.Dropped) is { } sample) server.Samples.Add(sample);
        return true;
    }

    /// <summary>RSS per connection from "before" to "open"; CPU from "open" to "end".</summary>
    private static void Derive(ServerSamples server)
    {
        ProcessSample? before = server.Samples.Find(s => s.Label == "before");
        ProcessSample? open = server.Samples.Find(s => s.Label == "open");
        ProcessSample? end = server.Samples.Find(s => s.Label == "end");
        if (before is not null && open is { OpenConnections: > 0 })
            server.RssPerConnectionBytes = (open.RssBytes - before.RssBytes) / open.OpenConnections;
        if (open is not null && end is not null && end.AtUnixMs > open.AtUnixMs)
            server.CpuPercent = Math.Round((end.CpuSeconds - open.CpuSeconds) * 100_000 / (end.AtUnixMs - open.AtUnixMs), 1);
    }
}
