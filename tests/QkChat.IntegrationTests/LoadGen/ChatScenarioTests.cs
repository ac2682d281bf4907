using System.Globalization;
using QkChat.Client;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.LoadGen;

/// <summary>
/// qkchat-loadgen chat, small, against the real server: 5 pairs from `provision-users --friends pairs`, sends, their
/// answers, the pushes and the acks all through the scenario's byte path (ChatUser.Wire.cs, ChatWire), every message
/// accounted for exactly once.
/// </summary>
public sealed class ChatScenarioTests
{
    private const string Password = "chat-load-password-1";

    /// <summary>180 s: migrate, provision and a server start on a loaded 2-core box, then a run bounded by its own
    /// clock (ramp 10 s, for the logins on a loaded box, + 3 s measured + 5 s grace).</summary>
    [Fact(Timeout = 180_000)]
    public async Task Five_pairs_deliver_and_acknowledge_every_message_once_in_order()
    {
        await using var db = await TempDatabase.CreateAsync();
        await using var server = await ProvisionedServer.StartAsync(db, ["--count", "10", "--prefix", "C", "--password", Password, "--friends", "pairs"],
            ProvisionedServer.CheapPasswordHash);

        LoadGenOptions options = OptionParser.Parse(["chat", "--port", server.Port.ToString(CultureInfo.InvariantCulture),
            "--connections", "10", "--prefix", "C", "--password", Password,
            "--ramp-up", "10", "--duration", "3", "--rate", "20", "--pipeline", "4", "--quiet"])!;
        RunResult result = await new LocalRun(options, CancellationToken.None).Completion;
        ResultBuilder.Finish(result);

        ChatResult c = Assert.IsType<ChatResult>(result.Chat);
        Assert.True((c.PairsChatting, c.LoginsOk) == (5L, 10L), result.Verdict);
        Assert.Equal((0L, 0L, 0L, 0L), (c.Lost, c.Duplicates, c.OutOfOrder, c.Unconfirmed));
        Assert.True(c.SentOk > 0 && c.DeliveredWindow > 0, $"sent {c.SentOk}, delivered in the window {c.DeliveredWindow}");
        // Every send answered `sent` (the byte path's own answers), pushed once, and every push acknowledged.
        Assert.Equal((0L, c.Sent), (c.SendErrors, c.SentOk));
        Assert.Equal(c.SentOk, c.Delivered);
        Assert.Equal(c.Delivered, c.AckedIds);
        Assert.True(result.Passed, result.Verdict);
    }

    /// <summary>
    /// A receiver's connection cut mid-run (its session revoked by another device of the same account): the messages
    /// its partner was answered `sent` for afterwards never reach it, and the end-of-run catch-up (reconnect, login,
    /// sync_messages) finds them on the server: late, not lost. 180 s as above.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task A_receiver_cut_mid_run_catches_up_and_its_messages_are_late_not_lost()
    {
        await using var db = await TempDatabase.CreateAsync();
        await using var server = await ProvisionedServer.StartAsync(db, ["--count", "2", "--prefix", "K", "--password", Password, "--friends", "pairs"],
            ProvisionedServer.CheapPasswordHash);

        LoadGenOptions options = OptionParser.Parse(["chat", "--port", server.Port.ToString(CultureInfo.InvariantCulture),
            "--connections", "2", "--prefix", "K", "--password", Password,
            "--ramp-up", "4", "--duration", "6", "--rate", "20", "--pipeline", "2", "--quiet"])!;
        Task<RunResult> run = new LocalRun(options, CancellationToken.None).Completion;

        // Account 1 logs in second (connections open evenly over the ramp), so once its session exists the pair is
        // chatting; revoking that session closes the run's connection for it (protocol.md: `kicked`, reason `revoked`).
        await using (ChatClient other = await ChatClient.ConnectAsync("127.0.0.1", server.Port, new ChatClientOptions(), TestContext.Current.CancellationToken))
        {
            Envelope login = await other.LoginAsync("K000001", Password, "cutter", ct: TestContext.Current.CancellationToken);
            Assert.True(login.Success == true, login.Code);
            await Wait.UntilAsync(async () => (await other.RevokeSessionAsync("lgc-1", TestContext.Current.CancellationToken)).Success == true,
                "the run's session lgc-1 revoked", TimeSpan.FromSeconds(60));
        }

        RunResult result = await run;
        ResultBuilder.Finish(result);
        ChatResult c = Assert.IsType<ChatResult>(result.Chat);
        Assert.True(result.Dropped >= 1, $"the cut was not seen as a drop: {result.Verdict}");
        Assert.True(c.Late > 0, $"nothing late: sent ok {c.SentOk}, delivered {c.Delivered}, lost {c.Lost}");
        Assert.Equal((0L, 0L, 0L), (c.Lost, c.CatchUpUnfinished, c.Duplicates));
        Assert.Contains("late", result.Verdict, StringComparison.Ordinal);
    }
}
