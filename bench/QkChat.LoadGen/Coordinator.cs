using System.Diagnostics;
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

    public static async Task<int> RunAsync(LoadGenOptions options, CancellationToken cancel)
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
        var clock = new RunClock(run.StartUnixMs, options.RampUpSeconds, options.DurationSeconds);
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
        if (server is not null)
        {
            if (!endSampled) Add(server, "end", run.Progress());
            Derive(server);
            result.Server = server;
        }
        ResultBuilder.Finish(result);

        Console.Out.Write(Report.Markdown(result));
        if (options.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, LoadGenJsonContext.Indented.RunResult),
                CancellationToken.None).ConfigureAwait(false);
        }
        return result.Passed ? 0 : 1;
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
