using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>How a finished result is judged: success rate, gates, and which exit code follows.</summary>
public sealed class VerdictTests
{
    [Theory]
    [InlineData(false, false, false, 0)]
    [InlineData(true, false, false, 1)]
    [InlineData(false, true, false, 3)]
    [InlineData(false, false, true, 4)]
    [InlineData(false, true, true, 3)]    // several: the lowest code
    [InlineData(true, true, true, 1)]
    public void Each_failure_has_its_own_exit_code_and_the_lowest_wins(bool run, bool p99, bool success, int expected) =>
        Assert.Equal(expected, Verdicts.ExitCode(run, p99, success));

    [Fact]
    public void A_sweep_exits_with_the_lowest_failing_code_of_its_levels()
    {
        Assert.Equal(0, Verdicts.Combine([0, 0, 0]));
        Assert.Equal(4, Verdicts.Combine([0, 4, 0]));
        Assert.Equal(3, Verdicts.Combine([4, 3, 0]));
        Assert.Equal(1, Verdicts.Combine([4, 1, 3]));
        Assert.Equal(0, Verdicts.Combine([]));
    }

    /// <summary>A chat run of 4 users that sent 100 messages, each acked, with send p99 near <paramref name="p99Us"/>.</summary>
    private static RunResult Chat(long p99Us = 2_000, long lost = 0, long outOfOrder = 0, long sendErrors = 0)
    {
        var latency = RunStats.NewHistogram();
        for (int i = 0; i < 100; i++) latency.RecordValue(i < 98 ? 1_000 : p99Us);
        var actions = new ActionStats();
        for (int i = 0; i < 4; i++) actions.Record("login", 5_000, null, inWindow: false);
        for (int i = 0; i < 100; i++) actions.Record("send_message", 1_000, null, inWindow: true);
        for (int i = 0; i < sendErrors; i++) actions.Record("send_message", 1_000, "CLIENT_TIMEOUT", inWindow: true);
        for (int i = 0; i < 100; i++) actions.Record("message_ack", 1_000, null, inWindow: true);
        var result = new RunResult
        {
            Scenario = "chat", Connections = 4, DurationS = 10, Opened = 4, RoundTrips = 100,
            ErrorCount = sendErrors, Errors = sendErrors > 0 ? new() { ["CLIENT_TIMEOUT"] = sendErrors } : [],
            HistogramPairs = HistogramCodec.ToPairs(latency),
            Actions = actions.ToResults(),
            Chat = new ChatResult { Pairs = 2, PairsChatting = 2, Sent = 100 + sendErrors, SentOk = 100, SentOkWindow = 100, Delivered = 100 - lost, Lost = lost, OutOfOrder = outOfOrder },
            Generator = new GeneratorCost { Processes = 1, CpuSeconds = 0.5, WindowSeconds = 10 },
        };
        return result;
    }

    [Fact]
    public void A_clean_run_passes_every_gate_and_counts_connections_as_requests()
    {
        RunResult r = Chat();
        ResultBuilder.Finish(r, new Gates(MaxP99Ms: 5, MinSuccessPercent: 100));
        Assert.True(r.Passed, r.Verdict);
        Assert.Equal(0, r.ExitCode);
        // 4 connections + 4 logins + 100 sends + 100 acks.
        Assert.Equal((208L, 208L, 100.0), (r.Success!.Requests, r.Success.Ok, r.Success.Percent));
        Assert.Equal("send_message to `sent`", r.Gates!.HeadlineLatency);
        Assert.Equal(2.0, r.Gates.P99Ms);
        Assert.True(r.Gates.P99Passed && r.Gates.SuccessPassed);
    }

    [Fact]
    public void A_slow_p99_exits_3()
    {
        RunResult r = Chat(p99Us: 80_000);
        ResultBuilder.Finish(r, new Gates(MaxP99Ms: 50, MinSuccessPercent: null));
        Assert.Equal(3, r.ExitCode);
        Assert.False(r.Passed);
        Assert.Contains("p99 gate: send_message to `sent` p99 80", r.Verdict, StringComparison.Ordinal);
        Assert.Contains("above 50 ms", r.Verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void With_a_success_gate_errors_are_judged_by_the_rate()
    {
        RunResult ok = Chat(sendErrors: 1);
        ResultBuilder.Finish(ok, new Gates(null, MinSuccessPercent: 99));
        Assert.Equal(0, ok.ExitCode);   // 208 of 209: 99.52 %
        Assert.Equal(99.522, ok.Success!.Percent);

        RunResult low = Chat(sendErrors: 1);
        ResultBuilder.Finish(low, new Gates(null, MinSuccessPercent: 99.9));
        Assert.Equal(4, low.ExitCode);
        Assert.Contains("success gate: 99.522% is below 99.9%", low.Verdict, StringComparison.Ordinal);
        Assert.Contains("1 error responses or timeouts", low.Verdict, StringComparison.Ordinal);

        RunResult strict = Chat(sendErrors: 1);
        ResultBuilder.Finish(strict);   // no gate: any error fails the run
        Assert.Equal(1, strict.ExitCode);
    }

    [Fact]
    public void Lost_or_reordered_messages_fail_the_run_whatever_the_gates_say()
    {
        RunResult lost = Chat(lost: 1);
        ResultBuilder.Finish(lost, new Gates(MaxP99Ms: 1000, MinSuccessPercent: 0));
        Assert.Equal(1, lost.ExitCode);
        Assert.Equal(207, lost.Success!.Ok);   // a message answered `sent` that never arrived is no success

        RunResult reordered = Chat(outOfOrder: 2);
        ResultBuilder.Finish(reordered, new Gates(MaxP99Ms: 1000, MinSuccessPercent: 0));
        Assert.Equal(1, reordered.ExitCode);
        Assert.Contains("2 messages delivered out of order", reordered.Verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gate_without_a_measured_latency_fails()
    {
        var r = new RunResult { Scenario = "connect", Connections = 10, DurationS = 5, Opened = 10 };
        ResultBuilder.Finish(r, new Gates(MaxP99Ms: 100, null));
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("p99 gate: no latency was measured", r.Verdict, StringComparison.Ordinal);
        Assert.Equal(100.0, r.Success!.Percent);
    }

    [Fact]
    public void Generator_cost_is_per_message_and_per_request_inside_the_window()
    {
        RunResult r = Chat();
        ResultBuilder.Finish(r);
        GeneratorCost g = r.Generator!;
        Assert.Equal(5.0, g.CpuPercent);            // 0.5 s of CPU over 10 s
        Assert.Equal(5_000.0, g.PerMessageUs);      // 100 messages sent inside the window
        Assert.Equal(2_500.0, g.PerRequestUs);      // 100 sends + 100 acks answered inside it (logins were not)
    }
}
