using System.Diagnostics;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>The qkchatd process itself: commands, exit codes, start-up checks and signals.</summary>
public sealed class StartupTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task Version_and_help_print_and_exit_zero()
    {
        await using (var p = ServerProcess.Start(new Dictionary<string, string>(), "--version"))
        {
            Assert.Equal(0, await p.WaitForExitAsync(Patience));
            Assert.Matches(@"^qkchatd \d+\.\d+\.\d+", p.Output);
        }
        await using (var p = ServerProcess.Start(new Dictionary<string, string>(), "--help"))
        {
            Assert.Equal(0, await p.WaitForExitAsync(Patience));
            Assert.Contains("usage: qkchatd", p.Output);
            Assert.Contains("migrate", p.Output);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_configuration_value_stops_with_one_line_naming_the_key()
    {
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        env["QKCHAT_MAX_CLIENTS"] = "lots";
        await using var p = ServerProcess.Start(env);
        Assert.Equal(2, await p.WaitForExitAsync(Patience));
        string output = p.Output.Trim();
        Assert.DoesNotContain('\n', output);
        Assert.Contains("server.max_clients", output);
        Assert.Contains("'lots'", output);
        Assert.Contains("QKCHAT_MAX_CLIENTS", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_database_fails_after_a_bounded_retry_with_a_clear_message()
    {
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        env["QKCHAT_DB_PORT"] = ServerProcess.FreePort().ToString(); // nothing listens there
        env["QKCHAT_STARTUP_RETRY_S"] = "1";
        // Bounded: it exits by itself within the wait (a retry without bound never would), and says it gave up
        // after the configured 1 s. No clock bound of our own: a loaded box stretches process start-up.
        await using var p = ServerProcess.Start(env);
        Assert.Equal(1, await p.WaitForExitAsync(Patience));
        Assert.Contains("MariaDB at 127.0.0.1", p.Output);
        Assert.Contains("unreachable after 1 s", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_redis_fails_with_a_clear_message()
    {
        await using var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_REDIS_PORT"] = ServerProcess.FreePort().ToString();
        env["QKCHAT_STARTUP_RETRY_S"] = "1";
        await using var p = ServerProcess.Start(env);
        Assert.Equal(1, await p.WaitForExitAsync(Patience));
        Assert.Contains("Redis at 127.0.0.1", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_database_without_migrations_is_refused_until_migrate_runs()
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        await using (var refused = ServerProcess.Start(env))
        {
            Assert.Equal(1, await refused.WaitForExitAsync(Patience));
            Assert.Contains("run `qkchatd migrate` first", refused.Output);
        }
        await using (var migrate = ServerProcess.Start(env, "migrate"))
        {
            Assert.Equal(0, await migrate.WaitForExitAsync(Patience));
            Assert.Contains("applied migration 1 (init)", migrate.Output);
        }
        await using (var again = ServerProcess.Start(env, "migrate"))
        {
            Assert.Equal(0, await again.WaitForExitAsync(Patience));
            Assert.Contains("0 applied now", again.Output);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_server_starts_reloads_on_sighup_and_stops_cleanly_on_sigterm()
    {
        // The version comes from one place: the start line carries exactly what --version prints ("qkchatd 1.2.3+commit").
        string version;
        await using (var v = ServerProcess.Start(new Dictionary<string, string>(), "--version"))
        {
            Assert.Equal(0, await v.WaitForExitAsync(Patience));
            version = v.Output.Trim();
            Assert.Matches(@"^qkchatd \d+\.\d+\.\d+\S*$", version);
        }

        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience);
        Assert.DoesNotContain(TestStack.DbPassword, p.Output);
        Assert.Contains(version + " starting", p.Output);

        using var client = await RawClient.ConnectAsync(port);
        await client.SendAsync(RawClient.Heartbeat("hb"));
        var response = await client.ReadAsync();
        Assert.Equal("OK", response.Str("code"));
        Assert.True(response.GetProperty("data").GetProperty("server_time").GetInt64() > 1_700_000_000_000);

        p.Signal(ServerProcess.SIGHUP);
        await p.WaitForOutputAsync("configuration reloaded", Patience);

        p.Signal(ServerProcess.SIGTERM);
        Assert.Equal("server_shutdown", (await client.ReadAsync()).Str("action"));
        Assert.True(await client.ClosedAsync());
        Assert.Equal(0, await p.WaitForExitAsync(Patience));
        Assert.Contains("stopped", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task Warns_when_the_file_limit_is_below_max_clients_and_sigint_stops_it()
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        // This machine's hard limit is 20,000 open files; far more clients than that must be warned about.
        env["QKCHAT_MAX_CLIENTS"] = "5000000";
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience);
        Assert.Single(p.Output.Split('\n'), l => l.Contains("open-file limit is") && l.Contains("below server.max_clients=5000000"));
        p.Signal(ServerProcess.SIGINT);
        Assert.Equal(0, await p.WaitForExitAsync(Patience));
    }
}
