using System.Globalization;
using QkChat.LoadGen.Results;

namespace QkChat.LoadGen.Workers;

/// <summary>
/// What became of a worker that sent no result, in one line for the verdict and stderr. Exit code 137 is SIGKILL
/// (128 + 9): either this coordinator killed it at the teardown allowance (it knows, and says so with the allowance)
/// or something outside the run did (the kernel's OOM killer, a person, a supervisor): then the worker's last and
/// peak RSS and its last progress say how far it got and how much it held. A bench run once reported only "exit code
/// 137" and nobody could tell which (bench/RESULTS.md, issue 19's 45,000 connections).
/// </summary>
public static class WorkerFate
{
    private const int SigKill = 9;

    public static string Describe(int index, int count, int? exitCode, bool killedByCoordinator, TimeSpan allowance,
        long lastRssBytes, long peakRssBytes, ProgressSnapshot? last)
    {
        string who = string.Create(CultureInfo.InvariantCulture, $"worker {index} of {count}");
        string what;
        if (killedByCoordinator)
            what = string.Create(CultureInfo.InvariantCulture,
                $"killed by this coordinator: no result {allowance.TotalSeconds:0} s after the run's deadline and no progress line for {WorkerPool.SilenceLimit.TotalSeconds:0} s (hung), or still none {WorkerPool.MaxTeardown.TotalSeconds:0} s after it");
        else if (exitCode == 128 + SigKill)
            what = "died of SIGKILL from outside this run (exit code 137: the kernel's OOM killer, or another process; not this coordinator)";
        else if (exitCode is int code && code > 128)
            what = string.Create(CultureInfo.InvariantCulture, $"died of signal {code - 128} (exit code {code})");
        else
            what = string.Create(CultureInfo.InvariantCulture, $"exited with code {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"} without a result");
        string memory = peakRssBytes > 0
            ? string.Create(CultureInfo.InvariantCulture, $"; RSS {lastRssBytes / 1048576.0:0} MiB at its last progress, peak {peakRssBytes / 1048576.0:0} MiB")
            : "; no progress seen";
        string progress = last is null ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; last progress: {last.Opened:N0} opened, {last.Failed:N0} failed, {last.Errors:N0} errors");
        return who + " " + what + memory + progress;
    }
}
