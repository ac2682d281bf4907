using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>`qkchatd provision-users`: the bulk path for load-test accounts (docs/loadgen.md), run as the real binary.</summary>
public sealed class ProvisioningTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private const string Password = "storm-password-1";

    [Fact]
    public async Task Provisioning_is_idempotent_and_the_users_can_log_in()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        string[] args = ["provision-users", "--count", "50", "--prefix", "P", "--password", Password];

        // Without the schema it refuses, like `run` does.
        await using (var refused = ServerProcess.Start(env, args))
        {
            Assert.Equal(1, await refused.WaitForExitAsync(Patience));
            Assert.Contains("run `qkchatd migrate` first", refused.Output);
        }
        await using (var migrate = ServerProcess.Start(env, "migrate"))
            Assert.Equal(0, await migrate.WaitForExitAsync(Patience));

        await using (var first = ServerProcess.Start(env, args))
        {
            Assert.Equal(0, await first.WaitForExitAsync(Patience));
            Assert.Contains("50 created, 0 existed", first.Output);
        }
        await using (var second = ServerProcess.Start(env, args))
        {
            Assert.Equal(0, await second.WaitForExitAsync(Patience));
            Assert.Contains("0 created, 50 existed", second.Output);
        }
        Assert.Equal(50, await db.ScalarAsync("SELECT COUNT(*) FROM users"));
        Assert.Equal(1, await db.ScalarAsync("SELECT COUNT(*) FROM users WHERE username = 'P000049' AND email = 'P000049@loadgen.invalid'"));
        Assert.Equal(50, await db.ScalarAsync("SELECT COUNT(*) FROM users WHERE user_id BETWEEN 100000000 AND 999999999"));
        Assert.Equal(1, await db.ScalarAsync("SELECT COUNT(DISTINCT password_hash) FROM users"));

        await using var server = ServerProcess.Start(env);
        await server.WaitForOutputAsync("ready: serving chat", Patience);
        using var client = await RawClient.ConnectAsync(port);
        await client.SendJsonAsync($$"""{"action":"login","request_id":"l1","username":"P000007","password":"{{Password}}","client_id":"t"}""");
        var response = await client.ReadAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("OK", response.Str("code"));
        Assert.Equal(43, response.GetProperty("data").GetProperty("token").GetString()!.Length);
    }

    [Theory]
    [InlineData("--count", "10", "--prefix", "bad-prefix", "--password", Password, "--prefix")]
    [InlineData("--count", "10", "--prefix", "123", "--password", Password, "--prefix")]
    [InlineData("--count", "0", "--prefix", "P", "--password", Password, "--count")]
    [InlineData("--count", "10", "--prefix", "P", "--password", "short", "password")]
    [InlineData("--count", "10", "--prefix", "P", "--password", null, "provision-users needs")]
    public async Task Bad_options_are_usage_errors(string a, string b, string c, string d, string e, string? f, string expected)
    {
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        string[] args = f is null ? ["provision-users", a, b, c, d] : ["provision-users", a, b, c, d, e, f];
        await using var p = ServerProcess.Start(env, args);
        Assert.Equal(2, await p.WaitForExitAsync(Patience));
        Assert.Contains(expected, p.Output);
    }
}
