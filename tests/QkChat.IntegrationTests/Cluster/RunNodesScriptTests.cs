using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Storage;
using Xunit;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// scripts/run-nodes.sh, what `make run NODES=3` runs (issue 19 point 5), with two nodes of the already built server
/// (QKCHAT_RUN_SERVER, the binary the other process tests start): both nodes serve on consecutive ports, one signal
/// to the script stops both and leaves nothing running; a node that dies on its own takes the others down with it.
/// </summary>
public sealed partial class RunNodesScriptTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private static string Script => Path.Combine(TestStack.RepoRoot, "scripts", "run-nodes.sh");

    [GeneratedRegex(@"run-nodes: node (\d+) pid (\d+) chat 127\.0\.0\.1:(\d+)")]
    private static partial Regex NodeLine();

    [Fact(Timeout = 240_000)] // two server processes start and stop on a loaded 2-core box
    public async Task Two_nodes_serve_on_consecutive_ports_and_one_SIGINT_stops_both()
    {
        await using var db = await MigratedDatabaseAsync();
        var (chat, admin) = (ConsecutiveFreePorts(2), ConsecutiveFreePorts(2));
        await using var script = StartScript(db, chat, admin);

        await WaitForAsync(() => Regex.Count(script.Output, "ready: serving chat") >= 2, script, "both nodes ready");
        var nodes = NodeLine().Matches(script.Output).Select(m => (Pid: int.Parse(m.Groups[2].Value), Port: int.Parse(m.Groups[3].Value))).ToList();
        Assert.Equal([chat, chat + 1], nodes.Select(n => n.Port));
        Assert.Contains("[node 0] ", script.Output);
        Assert.Contains("[node 1] ", script.Output);
        foreach (var (_, port) in nodes) await AssertHeartbeatAnsweredAsync(port);

        script.Signal(ServerProcess.SIGINT);
        Assert.Equal(0, await script.WaitForExitAsync(Patience)); // also waits for EOF: no node or sed holds the output
        Assert.Contains("run-nodes: all nodes stopped", script.Output);
        foreach (var (pid, port) in nodes)
        {
            Assert.False(Directory.Exists($"/proc/{pid}"), $"node pid {pid} still runs:\n{script.Output}");
            await Assert.ThrowsAnyAsync<SocketException>(async () => (await RawClient.ConnectAsync(port)).Dispose());
        }
    }

    [Fact(Timeout = 240_000)]
    public async Task A_node_that_dies_stops_the_others_and_the_script_exits_with_its_code()
    {
        // Both nodes serve first: one killed then must not leave the other serving unnoticed.
        await using var db = await MigratedDatabaseAsync();
        await using var script = StartScript(db, ConsecutiveFreePorts(2), ConsecutiveFreePorts(2));
        await WaitForAsync(() => Regex.Count(script.Output, "ready: serving chat") >= 2, script, "both nodes ready");
        var pids = NodeLine().Matches(script.Output).Select(m => int.Parse(m.Groups[2].Value)).ToList();

        Assert.Equal(0, Kill(pids[1], 9));
        Assert.Equal(128 + 9, await script.WaitForExitAsync(Patience)); // wait -n reports a killed child as 128 + signal
        Assert.Contains($"run-nodes: a node exited with code {128 + 9}; stopping the others", script.Output);
        Assert.Contains("[node 0] ", script.Output[script.Output.IndexOf("stopping the others", StringComparison.Ordinal)..]); // node 0 stopped gracefully
        foreach (int pid in pids) Assert.False(Directory.Exists($"/proc/{pid}"), $"node pid {pid} still runs:\n{script.Output}");
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static ExternalProcess StartScript(TempDatabase db, int chat, int admin)
    {
        var env = ServerProcess.StackEnvironment(db.Name, chat);
        env["QKCHAT_ADMIN_PORT"] = admin.ToString();
        env["QKCHAT_HTTP_PORT"] = ConsecutiveFreePorts(2).ToString(); // the script adds i to a base port; 0 is no base
        env["QKCHAT_LOG_DIR"] = Path.Combine(Path.GetTempPath(), "qkchat-run-nodes-" + db.Name);
        var (fileName, prefix) = TestStack.ServerCommand();
        env["QKCHAT_RUN_SERVER"] = prefix.Length > 0 ? prefix : fileName; // the dll, or the native binary
        return ExternalProcess.Start(Script, ["2"], env);
    }

    private static async Task<TempDatabase> MigratedDatabaseAsync()
    {
        var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        return db;
    }

    /// <summary>A port P such that P .. P+count-1 are free now (the script gives node i the base + i).</summary>
    private static int ConsecutiveFreePorts(int count)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int first = ServerProcess.FreePort();
            if (first + count - 1 < 65536 && Enumerable.Range(first + 1, count - 1).All(IsFree)) return first;
        }
        throw new InvalidOperationException($"no {count} consecutive free ports found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task AssertHeartbeatAnsweredAsync(int port)
    {
        using var client = await RawClient.ConnectAsync(port);
        await client.SendAsync(RawClient.Heartbeat($"hb-{port}"));
        var answer = await client.ReadAsync(TimeSpan.FromSeconds(30));
        Assert.Equal($"hb-{port}", answer.Str("request_id"));
    }

    private static async Task WaitForAsync(Func<bool> condition, ExternalProcess script, string what)
    {
        try
        {
            await Wait.UntilAsync(condition, what, Patience);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}:\n{script.Output}");
        }
    }
}
