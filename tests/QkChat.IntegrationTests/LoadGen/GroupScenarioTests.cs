using System.Globalization;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.IntegrationTests.LoadGen;

/// <summary>
/// qkchat-loadgen group, small, against the real server: accounts from `provision-users --friends groups:5`, two
/// groups of five created through the protocol, every member sending, every member's ledger checked.
/// </summary>
public sealed class GroupScenarioTests
{
    private const string Password = "group-load-password-1";

    /// <summary>180 s: migrate, provision and a server start on a loaded 2-core box, then a run bounded by its own
    /// clock (ramp 10 s, for the logins and group set-up on a loaded box, + 3 s measured + 5 s grace).</summary>
    [Fact(Timeout = 180_000)]
    public async Task Two_groups_of_five_deliver_every_entry_once_in_order_to_every_member()
    {
        await using var db = await TempDatabase.CreateAsync();
        await using var server = await StartServerAsync(db);

        LoadGenOptions options = OptionParser.Parse(["group", "--port", server.Port.ToString(CultureInfo.InvariantCulture),
            "--connections", "10", "--group-size", "5", "--prefix", "G", "--password", Password,
            "--ramp-up", "10", "--duration", "3", "--rate", "5", "--pipeline", "2", "--quiet"])!;
        RunResult result = await new LocalRun(options, CancellationToken.None).Completion;
        ResultBuilder.Finish(result);

        GroupResult g = Assert.IsType<GroupResult>(result.Group);
        Assert.Equal((2, 2L, 0L), (g.Groups, g.GroupsReady, g.SetupErrors));
        Assert.Equal((0L, 0L, 0L, 0L, 0L), (g.Lost, g.Duplicates, g.OutOfOrder, g.Unconfirmed, g.Unsynced));
        Assert.True(g.SentOk > 0 && g.DeliveredWindow > 0, $"sent {g.SentOk}, delivered in the window {g.DeliveredWindow}");
        // Every entry answered `sent` is in a timeline, and reached the four other members of its group, once each.
        Assert.Equal(g.SentOk, g.Entries);
        Assert.Equal(4 * g.SentOk, g.Delivered);
        Assert.True(g.LastMemberLatencyUs is { Count: > 0 }, "no entry was timed to its last member");
        Assert.True(result.Passed, result.Verdict);
    }

    /// <summary>
    /// A server that is behind by more than the 5 s grace at the window's end (here: stopped with SIGSTOP from 1 s before
    /// the window's end for 6.5 s, sends in flight) is waited for by --drain-seconds: its late answers are counted as
    /// sent, its pushes as delivered, nothing as lost. With the old end of run (the hard stop at the grace's end, which
    /// `--drain-seconds 0` still is) the run ends while the server is stopped: sends unanswered, the run failed.
    /// 180 s: as above, plus the stop and the drain.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task A_server_stopped_past_the_grace_at_the_window_end_is_drained_and_nothing_counts_as_lost()
    {
        const int SIGSTOP = 19, SIGCONT = 18;
        await using var db = await TempDatabase.CreateAsync();
        await using var server = await StartServerAsync(db);

        // A request timeout above the stop, so the answers after it are answers, not timeouts.
        LoadGenOptions options = OptionParser.Parse(["group", "--port", server.Port.ToString(CultureInfo.InvariantCulture),
            "--connections", "10", "--group-size", "5", "--prefix", "G", "--password", Password,
            "--ramp-up", "10", "--duration", "3", "--rate", "5", "--pipeline", "2", "--request-timeout", "30", "--drain-seconds", "30", "--quiet"])!;
        var run = new LocalRun(options, CancellationToken.None);
        long windowEndUnixMs = run.StartUnixMs + (long)((options.RampUpSeconds + options.DurationSeconds) * 1000);
        var stopped = Task.Run(async () =>
        {
            // The fault's schedule on the run's own clock (not a wait for an outcome): stop 1 s before the window's
            // end, resume 6.5 s later, 1.5 s past the old hard stop.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, windowEndUnixMs - 1000 - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())), Xunit.TestContext.Current.CancellationToken);
            server.Process.Signal(SIGSTOP);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(6500), Xunit.TestContext.Current.CancellationToken);
            }
            finally
            {
                server.Process.Signal(SIGCONT);
            }
        }, Xunit.TestContext.Current.CancellationToken);
        RunResult result = await run.Completion;
        await stopped;
        ResultBuilder.Finish(result);

        GroupResult g = Assert.IsType<GroupResult>(result.Group);
        Assert.Equal((2, 2L, 0L), (g.Groups, g.GroupsReady, g.SetupErrors));
        Assert.Equal((0L, 0L, 0L, 0L, 0L, 0L), (g.Lost, g.Late, g.Duplicates, g.OutOfOrder, g.Unconfirmed, g.Unsynced));
        // Every send was answered (the ones in flight during the stop after it), stored once and pushed to the other four.
        Assert.Equal((0L, g.Sent), (g.SendErrors, g.SentOk));
        Assert.Equal(g.SentOk, g.Entries);
        Assert.Equal(4 * g.SentOk, g.Delivered);
        Assert.True(result.Passed, result.Verdict);
    }

    /// <summary>A migrated database with 10 accounts in two blocks of 5 (provision-users --friends groups:5) and a server on it.</summary>
    private static async Task<ProvisionedServer> StartServerAsync(TempDatabase db)
    {
        var server = await ProvisionedServer.StartAsync(db, ["--count", "10", "--prefix", "G", "--password", Password, "--friends", "groups:5"],
            ProvisionedServer.CheapPasswordHash);
        try
        {
            // Two blocks, the first of each befriends the other four: 8 friendships, two rows each.
            Assert.Contains("friendship rows 16 created, 0 existed (2 blocks of up to 5", server.Provisioned);
            Assert.Equal(2, await db.ScalarAsync(
                "SELECT COUNT(*) FROM friendships f JOIN users a ON a.user_id = f.user_id JOIN users b ON b.user_id = f.friend_id " +
                "WHERE (a.username = 'G000005' AND b.username = 'G000009') OR (a.username = 'G000009' AND b.username = 'G000005')"));
            Assert.Equal(0, await db.ScalarAsync(
                "SELECT COUNT(*) FROM friendships f JOIN users a ON a.user_id = f.user_id JOIN users b ON b.user_id = f.friend_id " +
                "WHERE a.username = 'G000004' AND b.username = 'G000005'"));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }
}
