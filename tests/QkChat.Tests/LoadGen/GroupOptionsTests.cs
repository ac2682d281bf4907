using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>qkchat-loadgen group: its command line, the rate sweep, how groups are split over workers, and its verdict.</summary>
public sealed class GroupOptionsTests
{
    private static LoadGenOptions Parse(params string[] args) => OptionParser.Parse(args)!;

    [Fact]
    public void The_group_run_drains_after_the_grace_and_keeps_time_for_the_max_seq_read_and_the_sync()
    {
        LoadGenOptions o = Parse("group", "--connections", "100", "--password", "pw", "--ramp-up", "2", "--duration", "3");
        Assert.Equal(30, o.DrainSeconds);
        var clock = RunClock.Of(o, 0);
        double S(long ticks) => ticks / (double)System.Diagnostics.Stopwatch.Frequency;
        Assert.Equal(5 + 30, S(clock.DeadlineTimestamp - clock.WindowEndTimestamp), 3);
        var end = QkChat.LoadGen.Scenarios.GroupEndPhases.Of(clock);
        // 10 s for the sync, 1.5 s before it for max_seq: the drain runs until 23.5 s after the window's end.
        Assert.Equal(10, S(clock.DeadlineTimestamp - end.SyncFrom), 3);
        Assert.Equal(1.5, S(end.SyncFrom - end.DrainUntil), 3);
        Assert.True(end.DrainUntil > clock.SendsEndTimestamp);

        // --drain-seconds 0 is the old end: the hard stop at the grace's end, max_seq read 1.5 s before it.
        o = Parse("group", "--connections", "100", "--password", "pw", "--drain-seconds", "0");
        clock = RunClock.Of(o, 0);
        end = QkChat.LoadGen.Scenarios.GroupEndPhases.Of(clock);
        Assert.Equal(clock.SendsEndTimestamp, clock.DeadlineTimestamp);
        Assert.Equal((clock.DeadlineTimestamp, 1.5), (end.SyncFrom, S(end.SyncFrom - end.DrainUntil)));

        // Other scenarios have no drain: chat and mixed keep their own tail whatever --drain-seconds says (PairAckWaitTests).
        o = Parse("chat", "--connections", "100", "--password", "pw", "--drain-seconds", "60");
        clock = RunClock.Of(o, 0);
        Assert.Equal(5, S(clock.DeadlineTimestamp - clock.SendsEndTimestamp), 3);
        o = Parse("heartbeat", "--connections", "100", "--drain-seconds", "60");
        clock = RunClock.Of(o, 0);
        Assert.Equal(clock.SendsEndTimestamp, clock.DeadlineTimestamp);
    }

    [Fact]
    public void Send_after_ramp_is_off_unless_asked_and_is_read_by_the_pair_and_group_scenarios()
    {
        Assert.False(Parse("group", "--connections", "100", "--password", "pw").SendAfterRamp);
        Assert.True(Parse("group", "--connections", "100", "--password", "pw", "--send-after-ramp").SendAfterRamp);
        Assert.True(Parse("chat", "--connections", "100", "--password", "pw", "--send-after-ramp").SendAfterRamp);
        Assert.False(Parse("chat", "--connections", "100", "--password", "pw").SendAfterRamp);
    }

    [Fact]
    public void Group_options_are_read_with_their_defaults()
    {
        LoadGenOptions o = Parse("group", "--connections", "100", "--password", "pw");
        Assert.Equal((10, (int?)null, 10, 1.0), (o.GroupSize, o.SendersPerGroup, o.GroupCount, o.Rate));
        Assert.True(o.TracksDelivery);
        o = Parse("group", "--connections", "1000", "--password", "pw", "--group-size", "1000", "--senders-per-group", "10", "--rate-levels", "5,10,20");
        Assert.Equal((1000, (int?)10, 1), (o.GroupSize, o.SendersPerGroup, o.GroupCount));
        Assert.Equal([5.0, 10, 20], o.RateLevels);
    }

    [Theory]
    [InlineData("group needs --password", "group", "--connections", "10")]
    [InlineData("--group-size: 1025 is outside 2..1024", "group", "--connections", "10", "--password", "p", "--group-size", "1025")]
    [InlineData("--senders-per-group 11 is more than --group-size 10", "group", "--connections", "10", "--password", "p", "--senders-per-group", "11")]
    [InlineData("leaves a last group of one member", "group", "--connections", "21", "--password", "p")]
    [InlineData("more workers than groups", "group", "--connections", "20", "--password", "p", "--workers", "3")]
    [InlineData("cannot be combined", "group", "--connections", "20", "--password", "p", "--levels", "20,40", "--rate-levels", "1,2")]
    [InlineData("--rate-levels is for chat, mixed and group", "heartbeat", "--rate-levels", "1,2")]
    public void Bad_group_command_lines_are_refused(string message, params string[] args) =>
        Assert.Contains(message, Assert.Throws<UsageException>(() => OptionParser.Parse(args)).Message);

    [Fact]
    public void A_rate_level_replaces_the_rate_for_the_workers_too()
    {
        LoadGenOptions o = Parse("group", "--connections", "20", "--password", "p", "--rate", "3", "--rate-levels", "5,10");
        LoadGenOptions level = o.AtRate(10);
        Assert.Equal(10, level.Rate);
        Assert.Empty(level.RateLevels);
        Assert.Equal(10, Parse([.. level.RawArguments]).Rate);
        Assert.DoesNotContain("--rate-levels", level.RawArguments);
    }

    [Theory]
    [InlineData(100, 10, 2)]
    [InlineData(105, 10, 3)]
    [InlineData(1000, 1000, 1)]
    [InlineData(10_000, 10, 4)]
    public void Groups_are_split_whole_over_workers(int connections, int size, int workers)
    {
        int next = 0;
        for (int w = 0; w < workers; w++)
        {
            (int first, int count) = WorkerShare.GroupSplit(connections, size, w, workers);
            Assert.Equal(next, first);
            Assert.Equal(0, first % size);   // every share starts at a group's first member
            next = first + count;
        }
        Assert.Equal(connections, next);
    }

    [Fact]
    public void Losses_duplicates_and_disorder_fail_the_run_and_groups_never_started_are_availability()
    {
        RunResult Judged(GroupResult g)
        {
            var r = new RunResult { Scenario = "group", Connections = 20, Opened = 20, Group = g };
            Verdicts.Judge(r, Gates.None);
            return r;
        }
        GroupResult Clean() => new() { Groups = 2, GroupsReady = 2, SentOk = 10 };
        Assert.True(Judged(Clean()).Passed);
        GroupResult lost = Clean();
        lost.Lost = 3;
        Assert.Contains("3 deliveries lost", Judged(lost).Verdict);
        GroupResult dup = Clean();
        dup.Duplicates = 1;
        dup.OutOfOrder = 2;
        RunResult r = Judged(dup);
        Assert.Contains("1 entries delivered twice", r.Verdict);
        Assert.Contains("2 entries delivered out of seq order", r.Verdict);
        GroupResult notReady = Clean();
        notReady.GroupsReady = 1;
        Assert.Contains("1 of 2 groups never started", Judged(notReady).Verdict);
        var gated = new RunResult { Scenario = "group", Connections = 20, Opened = 20, Group = notReady };
        Verdicts.Judge(gated, new Gates(null, 0));
        Assert.True(gated.Passed);   // --min-success judges availability instead
    }
}
