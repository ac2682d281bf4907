using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>
/// A stop signal at any moment of the start: the process ends by itself with exit code 0, without an unhandled
/// exception. Before the fix a SIGTERM while the schema was read aborted (exit 134), and one during the chat server's
/// own start left the process hanging in its disposal (found by hand, 4 of 8 tries at ~0.6-1.1 s into a start).
/// </summary>
public sealed class StartupStopTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    // Each line is logged just before the next phase begins, so the signal lands in that phase or a little later;
    // whichever it is, the process must end cleanly.
    [Theory(Timeout = 90_000)]
    [InlineData("starting (configuration")]
    [InlineData("MariaDB reachable")]
    [InlineData("Redis reachable")]
    [InlineData("leased in Redis")]
    [InlineData("cross-node routing on")]
    [InlineData("ready: serving chat")]
    public async Task A_stop_signal_during_the_start_ends_the_process_cleanly(string phase)
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync(phase, Patience);
        p.Signal(ServerProcess.SIGTERM);
        Assert.Equal(0, await p.WaitForExitAsync(Patience));
        Assert.DoesNotContain("Unhandled exception", p.Output);
        Assert.Contains("stopped", p.Output);
    }
}
