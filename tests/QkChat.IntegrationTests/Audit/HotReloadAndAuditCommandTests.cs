using System.Text.Json;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Audit;

/// <summary>The published binary: SIGHUP reload of the configuration, and `qkchatd audit` reading what the server recorded.</summary>
public sealed class HotReloadAndAuditCommandTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("qkchat-reload-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ConfigFile => Path.Combine(_dir, "server.json");

    private static async Task<ExternalProcess> StartAsync(Dictionary<string, string> env)
    {
        var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience);
        return p;
    }

    /// <summary>Sends <paramref name="n"/> heartbeats at once and returns how many were refused with RATE_LIMITED.</summary>
    private static async Task<int> BurstAsync(RawClient c, int n)
    {
        var frames = Enumerable.Range(0, n).SelectMany(i => RawClient.Heartbeat("hb" + i)).ToArray();
        await c.SendAsync(frames);
        int limited = 0;
        for (int i = 0; i < n; i++)
        {
            var answer = await c.ReadAsync();
            Assert.Equal("hb" + i, answer.Str("request_id"));
            if (answer.Str("code") == "RATE_LIMITED") limited++;
            else Assert.Equal("OK", answer.Str("code"));
        }
        return limited;
    }

    [Fact(Timeout = 60_000)]
    public async Task Sighup_applies_a_new_rate_limit_and_log_level_to_open_connections_and_reports_restart_keys()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_CONFIG_PATH"] = ConfigFile;
        File.WriteAllText(ConfigFile, """{ "log": { "level": "information" } }""");
        await using var p = await StartAsync(env);
        using var client = await RawClient.ConnectAsync(port);
        Assert.Equal(0, await BurstAsync(client, 30)); // the default burst is 200

        File.WriteAllText(ConfigFile, """
            { "server": { "rate_limit_burst": 5, "rate_limit_rps": 1, "reactors": 1 },
              "log": { "level": "debug" } }
            """);
        p.Signal(ServerProcess.SIGHUP);
        await p.WaitForOutputAsync("configuration reloaded: 3 key(s) applied, 1 need a restart", Patience);
        Assert.Contains("reload: server.rate_limit_burst 200 -> 5 applied", p.Output);
        Assert.Contains("reload: server.rate_limit_rps 100 -> 1 applied", p.Output);
        Assert.Contains("reload: log.level information -> debug applied", p.Output);
        Assert.Contains("reload: server.reactors 0 -> 1 needs restart", p.Output);

        // The connection opened before the reload stays, and its bucket now holds at most 5.
        Assert.InRange(await BurstAsync(client, 20), 14, 15);
        // Debug lines now appear: a closed connection is logged at debug level.
        using (await RawClient.ConnectAsync(port)) { }
        await p.WaitForOutputAsync(" closed: ", Patience);
        await Task.Delay(1100, TestContext.Current.CancellationToken);
        Assert.Equal(0, await BurstAsync(client, 1));

        // Nothing restarted: a new client is served as before.
        using var late = await RawClient.ConnectAsync(port);
        await late.SendAsync(RawClient.Heartbeat("late"));
        Assert.Equal("OK", (await late.ReadAsync()).Str("code"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_malformed_file_on_sighup_changes_nothing()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_CONFIG_PATH"] = ConfigFile;
        File.WriteAllText(ConfigFile, "{}");
        await using var p = await StartAsync(env);
        using var client = await RawClient.ConnectAsync(port);

        // Valid keys beside a broken one: the whole file is refused, the valid ones included.
        File.WriteAllText(ConfigFile, """{ "server": { "rate_limit_burst": 5, "max_clients": "lots" } }""");
        p.Signal(ServerProcess.SIGHUP);
        await p.WaitForOutputAsync("configuration reload rejected, nothing changed", Patience);
        Assert.Contains("server.max_clients", p.Output);
        File.WriteAllText(ConfigFile, """{ "server": { "rate_limit_burst": 5 """);
        p.Signal(ServerProcess.SIGHUP);
        await p.WaitForOutputAsync("cannot be read", Patience);

        Assert.Equal(0, await BurstAsync(client, 30));
        Assert.DoesNotContain("-> 5 applied", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_audit_command_prints_what_the_server_recorded_as_a_table_or_json()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        await using (var p = await StartAsync(env))
        {
            await using (var provision = ServerProcess.Start(env, "provision-users", "--count", "1", "--prefix", "aud", "--password", "right password 1"))
                Assert.Equal(0, await provision.WaitForExitAsync(Patience));
            using var c = await RawClient.ConnectAsync(port);
            await c.SendJsonAsync("""{"action":"login","username":"aud000000","password":"wrong password 1","client_id":"phone","device":"Pixel"}""");
            Assert.Equal("INVALID_CREDENTIALS", (await c.ReadAsync()).Str("code"));
            await c.SendJsonAsync("""{"action":"login","username":"aud000000","password":"right password 1","client_id":"phone","device":"Pixel"}""");
            Assert.Equal("OK", (await c.ReadAsync()).Str("code"));
            p.Signal(ServerProcess.SIGTERM); // a clean stop stores what the audit log still holds
            Assert.Equal(0, await p.WaitForExitAsync(Patience));
        }
        long user = await db.ScalarAsync("SELECT user_id FROM users WHERE username = 'aud000000'");

        await using (var json = ServerProcess.Start(env, "audit", "--user", user.ToString(), "--json"))
        {
            Assert.Equal(0, await json.WaitForExitAsync(Patience));
            var rows = JsonDocument.Parse(json.Output).RootElement.EnumerateArray().ToList();
            Assert.Equal(["login", "login_failed"], rows.Select(r => r.GetProperty("event").GetString()));
            Assert.Equal("wrong_password", rows[1].GetProperty("detail").GetString());
            Assert.Equal("127.0.0.1", rows[1].GetProperty("ip").GetString());
            Assert.Equal("Pixel", rows[0].GetProperty("device").GetString());
            Assert.DoesNotContain("wrong password 1", json.Output);
        }
        await using (var table = ServerProcess.Start(env, "audit", "--ip", "127.0.0.1", "--since", "2020-01-01T00:00:00Z", "--limit", "1"))
        {
            Assert.Equal(0, await table.WaitForExitAsync(Patience));
            Assert.Contains("event_id", table.Output);
            Assert.Contains("(1 event, newest first)", table.Output);
            Assert.Contains("login ", table.Output);
        }
        await using (var future = ServerProcess.Start(env, "audit", "--user", user.ToString(), "--since", "4102444800000"))
        {
            Assert.Equal(0, await future.WaitForExitAsync(Patience));
            Assert.Contains("(0 events, newest first)", future.Output);
        }
        await using (var bad = ServerProcess.Start(env, "audit", "--since", "yesterday"))
        {
            Assert.Equal(2, await bad.WaitForExitAsync(Patience));
            Assert.Contains("--since", bad.Output);
        }
    }
}
