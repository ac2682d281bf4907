using System.Globalization;
using Xunit;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// <see cref="ChildProcesses"/> kills a server its test left running when the test ends by a throw or by xunit's
/// Timeout. The proof needs a test run of its own (a timed-out test fails, and the check must come after the test has
/// ended but before the runner exits, whose own clean-up would hide a missing one): this test runs
/// <see cref="LeakProbes"/> in a child test runner. Each probe starts qkchatd through ServerProcess, records its pid
/// and ends badly without disposing it; the probes' class fixture, disposed after both probes ended and before the
/// runner exits, writes which of those pids are still running.
/// </summary>
public sealed class ChildProcessesTests
{
    [Fact(Timeout = 300_000)] // a child test runner that starts two servers (one then waits for its 60 s Timeout) on a loaded box
    public async Task A_server_left_running_by_a_test_that_throws_or_times_out_is_killed_when_the_test_ends()
    {
        string dir = Directory.CreateTempSubdirectory("qkchat-leak-probe-").FullName;
        try
        {
            var env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(k => k.StartsWith("QKCHAT_", StringComparison.Ordinal))
                .ToDictionary(k => k, k => Environment.GetEnvironmentVariable(k)!);
            env[LeakProbes.DirVariable] = dir;
            var run = await ExternalProcess.RunAsync("dotnet",
                [typeof(LeakProbes).Assembly.Location, "-noColor", "-explicit", "only", "-class", typeof(LeakProbes).FullName!],
                env, TimeSpan.FromSeconds(280));

            // Both probes fail, as they are written to.
            Assert.True(run.ExitCode != 0, run.Output);
            Assert.Contains("Test execution timed out after 60000 milliseconds", run.Output);
            Assert.Contains(LeakProbes.Thrown, run.Output);
            string[] started = File.ReadAllLines(Path.Combine(dir, LeakProbes.StartedFile));
            Assert.Equal(2, started.Length);
            string[] alive = File.ReadAllLines(Path.Combine(dir, LeakProbes.AliveFile));
            Assert.True(alive.Length == 0, $"still running after their tests ended: pids {string.Join(", ", alive)} (of {string.Join(", ", started)})\n{run.Output}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>
/// Not run with the suite (Explicit): <see cref="ChildProcessesTests"/> runs them in a runner of their own. Each starts
/// a server and leaves it running as its test ends badly.
/// </summary>
public sealed class LeakProbes(LeakProbes.Recorder recorder) : IClassFixture<LeakProbes.Recorder>
{
    public const string DirVariable = "QKCHAT_TEST_LEAK_PROBE_DIR";
    public const string StartedFile = "started", AliveFile = "alive";
    public const string Thrown = "the probe's body failed with its server running";

    [Fact(Explicit = true, Timeout = 60_000)] // the Timeout is the point: the body waits past it
    public async Task A_test_that_times_out()
    {
        await recorder.StartServerAsync();
        await Task.Delay(Timeout.Infinite); // not the test's token: a body stuck where cancellation does not reach
    }

    [Fact(Explicit = true, Timeout = 60_000)]
    public async Task A_test_that_throws()
    {
        await recorder.StartServerAsync();
        throw new InvalidOperationException(Thrown);
    }

    /// <summary>Starts the probes' servers and, once both probes have ended, writes which are still running.</summary>
    public sealed class Recorder : IAsyncDisposable
    {
        // Read when used, not in the constructor: xunit builds a class fixture even when its only tests are Explicit
        // and not run, and a throwing constructor failed both probes in every ordinary run.
        private static string Dir => Environment.GetEnvironmentVariable(DirVariable) ?? throw new InvalidOperationException($"{DirVariable} is not set");
        private readonly List<int> _pids = [];
        private readonly List<TempDatabase> _databases = [];

        public async Task StartServerAsync()
        {
            var db = await TempDatabase.CreateAsync();
            lock (_databases) _databases.Add(db);
            var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
            env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
            var server = ServerProcess.Start(env); // not disposed: the test ends with it running
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(50));
            lock (_pids)
            {
                _pids.Add(server.ProcessId);
                File.AppendAllText(Path.Combine(Dir, StartedFile), server.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Environment.GetEnvironmentVariable(DirVariable) is null) return; // the probes were not run
            int[] alive;
            lock (_pids) alive = [.. _pids.Where(Running)];
            await File.WriteAllLinesAsync(Path.Combine(Dir, AliveFile), alive.Select(p => p.ToString(CultureInfo.InvariantCulture)));
            foreach (var db in _databases) await db.DisposeAsync();
        }

        /// <summary>A process that exists and is not a zombie (killed, not yet reaped).</summary>
        private static bool Running(int pid)
        {
            string stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat)) return false;
            try
            {
                string text = File.ReadAllText(stat);
                return text[(text.LastIndexOf(')') + 2)] != 'Z';
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
