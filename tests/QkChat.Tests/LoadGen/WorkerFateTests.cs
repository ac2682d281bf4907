using QkChat.LoadGen.Results;
using QkChat.LoadGen.Workers;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>
/// A worker that sent no result is named in the verdict with what became of it: killed by this coordinator at the
/// teardown allowance, killed from outside (exit code 137 that was not ours: the OOM killer or another process), or
/// exited; with its memory and last progress. Issue 19's 45,000-connection run reported "worker 0 sent no result (exit
/// code 137)" and "1 workers lost", and nobody could tell which.
/// </summary>
public sealed class WorkerFateTests
{
    private static readonly ProgressSnapshot Last = new() { Opened = 14_990, Failed = 10, Errors = 3 };

    [Fact]
    public void A_worker_this_coordinator_killed_says_so_with_the_allowance()
    {
        string fate = WorkerFate.Describe(0, 3, 137, killedByCoordinator: true, TimeSpan.FromSeconds(25), 512L << 20, 600L << 20, Last);
        Assert.Equal("worker 0 of 3 killed by this coordinator: no result 25 s after the run's deadline and no progress line for 15 s "
            + "(hung), or still none 120 s after it; RSS 512 MiB at its last progress, peak 600 MiB; last progress: 14,990 opened, "
            + "10 failed, 3 errors", fate);
    }

    [Fact]
    public void A_sigkill_from_outside_is_not_taken_for_ours()
    {
        string fate = WorkerFate.Describe(2, 3, 137, killedByCoordinator: false, TimeSpan.FromSeconds(25), 0, 0, null);
        Assert.Equal("worker 2 of 3 died of SIGKILL from outside this run (exit code 137: the kernel's OOM killer, or another "
            + "process; not this coordinator); no progress seen", fate);
        Assert.Contains("died of signal 11 (exit code 139)", WorkerFate.Describe(1, 3, 139, false, TimeSpan.FromSeconds(25), 0, 0, null));
        Assert.Contains("exited with code 1 without a result", WorkerFate.Describe(1, 3, 1, false, TimeSpan.FromSeconds(25), 0, 0, null));
    }

    [Fact]
    public void The_verdict_names_each_lost_worker_and_the_report_shows_every_workers_end()
    {
        var result = new RunResult
        {
            Scenario = "heartbeat", Connections = 30, Opened = 20, Failed = 10, RoundTrips = 100, LostWorkers = 1,
            LostWorkerCauses = ["worker 0 of 3 killed by this coordinator: no result 25 s after the run's deadline"],
            WorkerEndsAfterDeadlineS = [25.3, 1.25, 0.5],
        };
        Verdicts.Judge(result, Gates.None);
        Assert.Contains("worker 0 of 3 killed by this coordinator: no result 25 s after the run's deadline", result.Verdict);
        Assert.DoesNotContain("workers lost", result.Verdict);
        string report = Report.Markdown(result);
        Assert.Contains("| workers' results after the deadline (s) | 25.30 / 1.25 / 0.50 |", report);
    }

    [Fact]
    public void The_teardown_allowance_grows_with_the_largest_share()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), WorkerPool.TeardownAllowance(500));
        Assert.Equal(TimeSpan.FromSeconds(25), WorkerPool.TeardownAllowance(15_000));
    }
}
