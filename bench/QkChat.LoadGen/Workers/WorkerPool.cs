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

    /// <summary>After the run's own deadline, time for workers to close connections and print their result before
    /// they are killed. 10 s covers closing 15,000 sockets with room to spare.</summary>
    private static readonly TimeSpan TeardownAllowance = TimeSpan.FromSeconds(10);

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
        long killAt = clock.DeadlineTimestamp + RunClock.ToTicks(TeardownAllowance.TotalSeconds);
        var parts = new List<RunResult>();
        int lost = 0;
        long lostConnections = 0;
        foreach (Worker w in _workers)
        {
            if (!await Waits.ForAsync(w.Exited, killAt, CancellationToken.None).ConfigureAwait(false)) w.Kill();
            RunResult? result = await w.Result.ConfigureAwait(false);
            if (result is null)
            {
                lost++;
                lostConnections += WorkerShare.For(_options, w.Index, _workers.Length).Connections;
                await Console.Error.WriteLineAsync($"worker {w.Index} sent no result (exit code {w.ExitCode})").ConfigureAwait(false);
            }
            else parts.Add(result);
        }
        return ResultBuilder.Merge(parts, _options, StartUnixMs, lost, lostConnections);
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

        private async Task ReadAsync()
        {
            try
            {
                while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    if (line == WorkerProtocol.Ready) _ready.TrySetResult();
                    else if (line.StartsWith(WorkerProtocol.Progress, StringComparison.Ordinal)) LastProgress = WorkerProtocol.ParseProgress(line);
                    else if (line.StartsWith(WorkerProtocol.Result, StringComparison.Ordinal)) _result.TrySetResult(WorkerProtocol.ParseResult(line));
                }
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
            finally
            {
                _ready.TrySetException(new InvalidOperationException($"worker {Index} ended before it was ready"));
                _result.TrySetResult(null);
            }
        }
    }
}
