using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Scenarios;

namespace QkChat.LoadGen.Run;

/// <summary>A run as the coordinator watches it: in this process, or spread over worker processes.</summary>
public interface IRunHandle
{
    long StartUnixMs { get; }

    /// <summary>Counts so far (summed over workers; p99 is the worst worker's).</summary>
    ProgressSnapshot Progress();

    /// <summary>The merged result; completes by the run's deadline plus a short teardown.</summary>
    Task<RunResult> Completion { get; }
}

/// <summary>One process's part of a run: builds the context, runs the scenario, bounds it by the deadline.</summary>
public sealed class ProcessRun
{
    private readonly ScenarioContext _context;
    private readonly IScenario _scenario;
    private readonly CancellationTokenSource _hardStop;

    private ProcessRun(LoadGenOptions options, WorkerShare share, long startUnixMs, CancellationToken cancel)
    {
        var clock = RunClock.Of(options, startUnixMs);
        _hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        long untilDeadline = clock.DeadlineTimestamp - System.Diagnostics.Stopwatch.GetTimestamp();
        _hardStop.CancelAfter(TimeSpan.FromSeconds(Math.Max(0, untilDeadline) / (double)System.Diagnostics.Stopwatch.Frequency));
        _context = new ScenarioContext(options, share, clock, _hardStop.Token);
        _scenario = ScenarioFactory.Create(options.Scenario);
        // _hardStop is never disposed: stragglers may still observe its token after the result is out, and the
        // process ends with the run anyway.
        Completion = Task.Run(async () =>
        {
            var cpu = new CpuWindow(clock, _hardStop.Token);
            await Waits.UntilAsync(clock.StartTimestamp, _hardStop.Token).ConfigureAwait(false);
            await _scenario.RunAsync(_context).ConfigureAwait(false);
            RunResult result = ResultBuilder.FromProcess(options, _context, _scenario);
            result.Generator = await cpu.ResultAsync().ConfigureAwait(false);
            return result;
        });
    }

    public Task<RunResult> Completion { get; }

    public long StartUnixMs => _context.Clock.StartUnixMs;

    public static ProcessRun Start(LoadGenOptions options, WorkerShare share, long startUnixMs, CancellationToken cancel) =>
        new(options, share, startUnixMs, cancel);

    public ProgressSnapshot Progress()
    {
        RunStats stats = _context.Stats;
        return new ProgressSnapshot
        {
            Opened = stats.Opened,
            Failed = stats.Failed,
            Dropped = stats.Dropped,
            RoundTripsAll = stats.RoundTripsAll,
            Errors = stats.Errors,
            // Read while other threads record: good enough for a progress line, not for the report.
            P99Us = stats.Latency.TotalCount > 0 ? stats.Latency.GetValueAtPercentile(99) : 0,
            AllAttempted = _scenario.AllAttempted,
        };
    }
}

/// <summary>The whole run in this process (one worker): the common case below 15,000 connections.</summary>
public sealed class LocalRun : IRunHandle
{
    /// <summary>Head start before the clock's zero, for timers and the "before" sample. 100 ms is ample in-process.</summary>
    private static readonly TimeSpan StartDelay = TimeSpan.FromMilliseconds(100);

    private readonly ProcessRun _run;

    public LocalRun(LoadGenOptions options, CancellationToken cancel)
    {
        long start = DateTimeOffset.UtcNow.Add(StartDelay).ToUnixTimeMilliseconds();
        _run = ProcessRun.Start(options, WorkerShare.For(options, 0, 1), start, cancel);
        Completion = MergeAsync(options);
    }

    public long StartUnixMs => _run.StartUnixMs;

    public Task<RunResult> Completion { get; }

    public ProgressSnapshot Progress() => _run.Progress();

    private async Task<RunResult> MergeAsync(LoadGenOptions options)
    {
        RunResult part = await _run.Completion.ConfigureAwait(false);
        return ResultBuilder.Merge([part], options, _run.StartUnixMs, lostWorkers: 0, lostConnections: 0);
    }
}
