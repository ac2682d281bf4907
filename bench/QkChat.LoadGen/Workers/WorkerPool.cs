using System.Diagnostics;
using System.Globalization;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Workers;

/// <summary>
/// The coordinator side: re-executes this binary once per worker (hidden --worker-index/--worker-count added to the
/// same arguments), starts them all at one Unix-millisecond time, follows their progress, and merges their results.
/// Past one process because one process may hold only 20,000 open files here.
/// </summary>
public sealed class WorkerPool : IRunHandle
{
    /// <summary>Bound on every worker saying "ready". The AOT binary starts in milliseconds, the JIT build in about
    /// a second; 30 s only catches a worker that cannot start at all.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Start time is this far after the last "ready": time for every worker to read its start line and arm
    /// its timers, so all open their first connection at the same moment.</summary>
    private static readonly TimeSpan StartDelay = TimeSpan.FromMilliseconds(300);

    /// <summary>After the run's own deadline, time for workers to close connections and print their result before a
    /// silent one is killed: 10 s, plus 1 s per 1,000 connections of the largest share (a worker closes its connections
    /// after its deadline). Past it a worker is killed only when it has also been silent (no progress line) for
    /// <see cref="SilenceLimit"/>: a worker that still prints progress is alive, only slow.</summary>
    public static TimeSpan TeardownAllowance(int connectionsPerWorker) =>
        TimeSpan.FromSeconds(10 + connectionsPerWorker / 1000);

    /// <summary>A worker prints progress every 0.5 s until its result: 15 s without a line after the allowance means it
    /// hangs (or is starved beyond use), and it is killed. Thirty missed lines, so a GC pause or a starved box does not
    /// count as a hang.</summary>
    public static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(15);

    /// <summary>The bound on a teardown that keeps printing progress: 120 s after the deadline the worker is killed
    /// however alive it seems, so a run always ends.</summary>
    public static readonly TimeSpan MaxTeardown = TimeSpan.FromSeconds(120);

    /// <summary>How often the coordinator looks at a worker that has not ended yet after the allowance.</summary>
    private static readonly TimeSpan SupervisionPoll = TimeSpan.FromSeconds(1);

    private readonly LoadGenOptions _options;
    private readonly Worker[] _workers;

    private WorkerPool(LoadGenOptions options, Worker[] workers, long startUnixMs)
    {
        _options = options;
        _workers = workers;
        StartUnixMs = startUnixMs;
        Completion = CollectAsync();
    }

    public long StartUnixMs { get; }

    public Task<RunResult> Completion { get; }

    public static async Task<WorkerPool> StartAsync(LoadGenOptions options, CancellationToken cancel)
    {
        int count = options.EffectiveWorkers;
        var workers = new Worker[count];
        for (int i = 0; i < count; i++) workers[i] = Worker.Launch(options, i, count);
        try
        {
            await Task.WhenAll(workers.Select(w => w.Ready)).WaitAsync(ReadyTimeout, cancel).ConfigureAwait(false);
        }
        catch
        {
            foreach (Worker w in workers) w.Kill();
            throw;
        }
        long start = DateTimeOffset.UtcNow.Add(StartDelay).ToUnixTimeMilliseconds();
        foreach (Worker w in workers) await w.SendStartAsync(start).ConfigureAwait(false);
        return new WorkerPool(options, workers, start);
    }

    public ProgressSnapshot Progress()
    {
        var sum = new ProgressSnapshot { AllAttempted = true };
        foreach (Worker w in _workers)
        {
            ProgressSnapshot? p = w.LastProgress;
            if (p is null)
            {
                sum.AllAttempted = false;
                continue;
            }
            sum.Opened += p.Opened;
            sum.Failed += p.Failed;
            sum.Dropped += p.Dropped;
            sum.RoundTripsAll += p.RoundTripsAll;
            sum.Errors += p.Errors;
            sum.P99Us = Math.Max(sum.P99Us, p.P99Us);
            sum.AllAttempted &= p.AllAttempted;
        }
        return sum;
    }

    private async Task<RunResult> CollectAsync()
    {
        var clock = RunClock.Of(_options, StartUnixMs);
        int largestShare = Enumerable.Range(0, _workers.Length).Max(i => WorkerShare.For(_options, i, _workers.Length).Connections);
        TimeSpan allowance = TeardownAllowance(largestShare);
        long killAt = clock.DeadlineTimestamp + RunClock.ToTicks(allowance.TotalSeconds);
        var parts = new List<RunResult>();
        var causes = new List<string>();
        var ends = new List<double>();
        long lostConnections = 0;
        foreach (Worker w in _workers)
        {
            if (!await Waits.ForAsync(w.Exited, killAt, CancellationToken.None).ConfigureAwait(false))
                await SuperviseTeardownAsync(w, clock.DeadlineTimestamp).ConfigureAwait(false);
            RunResult? result = await w.Result.ConfigureAwait(false);
            await w.Exited.ConfigureAwait(false);
            ends.Add(Math.Round((w.ResultAt - clock.DeadlineTimestamp) / (double)System.Diagnostics.Stopwatch.Frequency, 2));
            if (result is null)
            {
                lostConnections += WorkerShare.For(_options, w.Index, _workers.Length).Connections;
                string cause = WorkerFate.Describe(w.Index, _workers.Length, w.ExitCode, w.KilledByCoordinator, allowance, w.LastRssBytes,
                    w.PeakRssBytes, w.LastProgress);
                causes.Add(cause);
                await Console.Error.WriteLineAsync(cause).ConfigureAwait(false);
            }
            else parts.Add(result);
        }
        RunResult merged = ResultBuilder.Merge(parts, _options, StartUnixMs, causes.Count, lostConnections);
        merged.LostWorkerCauses = causes;
        merged.WorkerEndsAfterDeadlineS = ends;
        return merged;
    }

    /// <summary>Past the allowance: waits while the worker keeps printing progress, kills it once it is silent for
    /// <see cref="SilenceLimit"/> or <see cref="MaxTeardown"/> has passed since the deadline.</summary>
    private static async Task SuperviseTeardownAsync(Worker w, long deadline)
    {
        long maxAt = deadline + RunClock.ToTicks(MaxTeardown.TotalSeconds);
        long silence = RunClock.ToTicks(SilenceLimit.TotalSeconds);
        while (true)
        {
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now - Volatile.Read(ref w.LastLineAt) > silence || now > maxAt)
            {
                w.KillAtTeardown();
                return;
            }
            long next = now + RunClock.ToTicks(SupervisionPoll.TotalSeconds);
            if (await Waits.ForAsync(w.Exited, next, CancellationToken.None).ConfigureAwait(false)) return;
        }
    }

    /// <summary>One child process and what it has said so far.</summary>
    private sealed class Worker
    {
        private readonly Process _process;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<RunResult?> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Worker(Process process, int index)
        {
            _process = process;
            Index = index;
            Exited = ReadAsync();
        }

        public int Index { get; }
        public Task Ready => _ready.Task;
        public Task<RunResult?> Result => _result.Task;

        /// <summary>Completes when the worker's stdout ends and the process has exited.</summary>
        public Task Exited { get; }

        public volatile ProgressSnapshot? LastProgress;

        /// <summary>This run's coordinator killed it: no result by the teardown allowance after the deadline.</summary>
        public volatile bool KilledByCoordinator;

        /// <summary>Resident memory at the last progress line and the most seen (bytes; 0 before the first): what a
        /// worker held when it died tells an out-of-memory kill from another.</summary>
        public long LastRssBytes, PeakRssBytes;

        /// <summary>When its result line came or, without one, when its output ended (Stopwatch timestamp).</summary>
        public long ResultAt;

        /// <summary>When it last printed a line (Stopwatch timestamp): the liveness the teardown supervision reads.</summary>
        public long LastLineAt = System.Diagnostics.Stopwatch.GetTimestamp();

        public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

        public static Worker Launch(LoadGenOptions options, int index, int count)
        {
            var start = new ProcessStartInfo
            {
                FileName = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path"),
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            // Under `dotnet qkchat-loadgen.dll` the process is the dotnet host: the worker needs the assembly too.
            if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qkchat-loadgen.dll"));
            foreach (string arg in options.RawArguments) start.ArgumentList.Add(arg);
            start.ArgumentList.Add("--worker-index");
            start.ArgumentList.Add(index.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add("--worker-count");
            start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add("--quiet");
            return new Worker(Process.Start(start) ?? throw new InvalidOperationException("worker did not start"), index);
        }

        public async Task SendStartAsync(long startUnixMs)
        {
            await _process.StandardInput.WriteLineAsync(WorkerProtocol.StartLine(startUnixMs)).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        }

        /// <summary>The teardown allowance passed without a result: killed, and reported as killed by this coordinator.</summary>
        public void KillAtTeardown()
        {
            KilledByCoordinator = true;
            Kill();
        }

        /// <summary>Kills this worker (by its own Process object: only processes this run started).</summary>
        public void Kill()
        {
            try
            {
                if (!_process.HasExited) _process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        private void SampleMemory()
        {
            if (ProcSampler.Sample(_process.Id, "worker", 0) is not { } sample) return;
            LastRssBytes = sample.RssBytes;
            PeakRssBytes = Math.Max(PeakRssBytes, sample.RssBytes);
        }

        private async Task ReadAsync()
        {
            try
            {
                while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    Volatile.Write(ref LastLineAt, System.Diagnostics.Stopwatch.GetTimestamp());
                    if (line == WorkerProtocol.Ready) _ready.TrySetResult();
                    else if (line.StartsWith(WorkerProtocol.Progress, StringComparison.Ordinal))
                    {
                        LastProgress = WorkerProtocol.ParseProgress(line);
                        SampleMemory();
                    }
                    else if (line.StartsWith(WorkerProtocol.Result, StringComparison.Ordinal))
                    {
                        ResultAt = System.Diagnostics.Stopwatch.GetTimestamp();
                        _result.TrySetResult(WorkerProtocol.ParseResult(line));
                    }
                }
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
            finally
            {
                if (ResultAt == 0) ResultAt = System.Diagnostics.Stopwatch.GetTimestamp();
                _ready.TrySetException(new InvalidOperationException($"worker {Index} ended before it was ready"));
                _result.TrySetResult(null);
            }
        }
    }
}
