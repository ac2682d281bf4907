using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>issue 16: a misspelled setting is named with the closest known one instead of being silently ignored.</summary>
public sealed class UnknownSettingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>The variables the harness itself passes that are read by scripts and tests, not the server: never warned about.</summary>
    private static void AddKnownNonOptions(Dictionary<string, string> env)
    {
        env["QKCHAT_TEST_SERVER_BIN"] = "/nonexistent/qkchatd";
        env["QKCHAT_STACK_DB_PORT"] = "13306";
        env["QKCHAT_HASH_SAMPLES"] = "3";
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_variable_is_warned_about_at_start_with_the_closest_setting()
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_MAIL_DROP_DIR"] = Path.GetTempPath();
        AddKnownNonOptions(env);
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience).WaitAsync(TestContext.Current.CancellationToken);
        Assert.Contains("QKCHAT_MAIL_DROP_DIR", p.Output);
        Assert.Contains("QKCHAT_MAIL_DIR (mail.drop_dir)", p.Output);
        Assert.DoesNotContain("QKCHAT_TEST_SERVER_BIN", p.Output);
        Assert.DoesNotContain("QKCHAT_STACK_DB_PORT", p.Output);
        Assert.DoesNotContain("QKCHAT_HASH_SAMPLES", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_config_fails_on_an_unknown_variable_naming_the_closest_setting()
    {
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        AddKnownNonOptions(env);
        await using (var clean = ServerProcess.Start(env, "check-config"))
            Assert.Equal(0, await clean.WaitForExitAsync(Patience).WaitAsync(TestContext.Current.CancellationToken));

        env["QKCHAT_MAX_CLIENT"] = "500";
        await using var p = ServerProcess.Start(env, "check-config");
        Assert.Equal(2, await p.WaitForExitAsync(Patience).WaitAsync(TestContext.Current.CancellationToken));
        Assert.Contains("QKCHAT_MAX_CLIENT", p.Output);
        Assert.Contains("QKCHAT_MAX_CLIENTS (server.max_clients)", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_file_key_names_the_closest_setting_at_start_and_in_check_config()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("qkchat-unknown-").FullName, "server.json");
        await File.WriteAllTextAsync(path, """{ "mail": { "drop_directory": "/tmp" } }""", TestContext.Current.CancellationToken);
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        env["QKCHAT_CONFIG_PATH"] = path;
        foreach (string command in new[] { "check-config", "run" })
        {
            await using var p = ServerProcess.Start(env, command);
            Assert.Equal(2, await p.WaitForExitAsync(Patience).WaitAsync(TestContext.Current.CancellationToken));
            Assert.Contains("mail.drop_directory", p.Output);
            Assert.Contains("did you mean mail.drop_dir", p.Output);
        }
    }
}
