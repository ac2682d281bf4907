using System.Globalization;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.LoadGen;

/// <summary>
/// qkchat-loadgen's keepalive (docs/loadgen.md "Keepalive") against the real server with a short idle timeout: chat
/// pairs that log in early and wait through a ramp longer than server.idle_timeout_s (--send-after-ramp, as
/// bench/loopback.sh's cluster and group runs do) stay connected when the generator heartbeats the silent ones, and
/// are closed by the server when it does not (the same run with --keepalive 0: the check that the run really waits
/// past the idle timeout, and that the test can fail).
/// </summary>
public sealed class KeepaliveRunTests
{
    private const string Password = "keepalive-load-password-1";

    /// <summary>The server's idle timeout for this test (QKCHAT_IDLE_TIMEOUT_S): the ramp is four times it, and the
    /// server checks its deadlines once a second, so a connection silent through the ramp is closed for sure.</summary>
    private const int IdleTimeoutSeconds = 3;

    /// <summary>300 s: migrate, provision and a server start on a loaded 2-core box, then two runs bounded by their
    /// own clocks (ramp 12 s + 2 s measured + 5 s grace + 5 s tail each).</summary>
    [Fact(Timeout = 300_000)]
    public async Task Pairs_waiting_through_a_ramp_past_the_idle_timeout_stay_connected_with_the_keepalive_and_are_closed_without()
    {
        await using var db = await TempDatabase.CreateAsync();
        await using var server = await ProvisionedServer.StartAsync(db, ["--count", "10", "--prefix", "W", "--password", Password, "--friends", "pairs"],
            env =>
            {
                ProvisionedServer.CheapPasswordHash(env);
                env["QKCHAT_IDLE_TIMEOUT_S"] = IdleTimeoutSeconds.ToString(CultureInfo.InvariantCulture);
            });

        // A sixth of the idle timeout: found within an eighth of a second more, far inside the server's 3 s even on a
        // loaded box.
        RunResult kept = await RunAsync(server.Port, keepalive: "0.5");
        ChatResult c = Assert.IsType<ChatResult>(kept.Chat);
        Assert.True(kept.Dropped == 0, $"{kept.Dropped} connections dropped: {string.Join(", ", kept.Drops.Select(d => $"{d.Key} {d.Value}"))}");
        Assert.Equal((5L, 10L), (c.PairsChatting, c.LoginsOk));
        Assert.Equal((0L, 0L, 0L, 0L), (c.Lost, c.Late, c.Duplicates, c.OutOfOrder));
        KeepaliveResult k = Assert.IsType<KeepaliveResult>(kept.Keepalive);
        Assert.True(k.Sent > 0 && k.Answered > 0, $"keepalive sent {k.Sent}, answered {k.Answered}");
        Assert.Equal(0, k.Failed);
        // Not the scenario's requests: no heartbeat in the action table, and none among the errors.
        Assert.False(kept.Actions?.ContainsKey(Actions.Heartbeat) ?? false);
        Assert.True(kept.Passed, kept.Verdict);

        // The same run without the keepalive: the early pairs sit silent past the idle timeout and the server closes them.
        RunResult bare = await RunAsync(server.Port, keepalive: "0");
        Assert.Null(bare.Keepalive);
        Assert.True(bare.Drops.GetValueOrDefault("ServerClosed") > 0,
            $"without the keepalive nothing was closed by the server: dropped {bare.Dropped} ({string.Join(", ", bare.Drops.Select(d => $"{d.Key} {d.Value}"))})");
        Assert.False(bare.Passed);
    }

    private static async Task<RunResult> RunAsync(int port, string keepalive)
    {
        LoadGenOptions options = OptionParser.Parse(["chat", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--connections", "10", "--prefix", "W", "--password", Password, "--send-after-ramp",
            "--ramp-up", (4 * IdleTimeoutSeconds).ToString(CultureInfo.InvariantCulture), "--duration", "2", "--rate", "5",
            "--keepalive", keepalive, "--quiet"])!;
        RunResult result = await new LocalRun(options, CancellationToken.None).Completion;
        ResultBuilder.Finish(result);
        return result;
    }
}
