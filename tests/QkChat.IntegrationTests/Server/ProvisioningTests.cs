using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>`qkchatd provision-users`: the bulk path for load-test accounts (docs/loadgen.md), run as the real binary.</summary>
public sealed class ProvisioningTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private const string Password = "storm-password-1";

    [Fact(Timeout = 60_000)]
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
        Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM friendships"));

        // --friends pairs on accounts that exist: users 2k and 2k+1 become friends, both rows, and only them.
        string[] pairArgs = [.. args, "--friends", "pairs"];
        await using (var paired = ServerProcess.Start(env, pairArgs))
        {
            Assert.Equal(0, await paired.WaitForExitAsync(Patience));
            Assert.Contains("0 created, 50 existed", paired.Output);
            Assert.Contains("friendship rows 50 created, 0 existed (25 pairs", paired.Output);
        }
        await using (var again = ServerProcess.Start(env, pairArgs))
        {
            Assert.Equal(0, await again.WaitForExitAsync(Patience));
            Assert.Contains("friendship rows 0 created, 50 existed", again.Output);
        }
        Assert.Equal(50, await db.ScalarAsync("SELECT COUNT(*) FROM friendships"));
        Assert.Equal(2, await db.ScalarAsync(Friends("P000006", "P000007")));
        Assert.Equal(0, await db.ScalarAsync(Friends("P000007", "P000008")));
        Assert.Equal(50, await db.ScalarAsync(
            "SELECT COUNT(*) FROM friendships f JOIN users a ON a.user_id = f.user_id JOIN users b ON b.user_id = f.friend_id " +
            "WHERE CAST(SUBSTRING(a.username, 2) AS UNSIGNED) DIV 2 = CAST(SUBSTRING(b.username, 2) AS UNSIGNED) DIV 2 AND a.user_id <> b.user_id"));
        long partner = await db.ScalarAsync("SELECT user_id FROM users WHERE username = 'P000006'");
        long stranger = await db.ScalarAsync("SELECT user_id FROM users WHERE username = 'P000008'");

        await using var server = ServerProcess.Start(env);
        await server.WaitForOutputAsync("ready: serving chat", Patience);
        using var client = await RawClient.ConnectAsync(port);
        await client.SendJsonAsync($$"""{"action":"login","request_id":"l1","username":"P000007","password":"{{Password}}","client_id":"t"}""");
        var response = await client.ReadAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("OK", response.Str("code"));
        Assert.Equal(43, response.GetProperty("data").GetProperty("token").GetString()!.Length);

        // The pair can message each other (what qkchat-loadgen chat does); a neighbour of another pair cannot.
        await client.SendJsonAsync($$"""{"action":"send_message","request_id":"s1","receiver_id":{{partner}},"content":"hello","client_msg_id":"{{Guid.NewGuid():N}}"}""");
        Assert.Equal("OK", (await ResponseAsync(client, "s1")).Str("code"));
        await client.SendJsonAsync($$"""{"action":"send_message","request_id":"s2","receiver_id":{{stranger}},"content":"hello"}""");
        Assert.Equal("NOT_FRIENDS", (await ResponseAsync(client, "s2")).Str("code"));
    }

    private static string Friends(string a, string b) =>
        "SELECT COUNT(*) FROM friendships f JOIN users x ON x.user_id = f.user_id JOIN users y ON y.user_id = f.friend_id " +
        $"WHERE (x.username = '{a}' AND y.username = '{b}') OR (x.username = '{b}' AND y.username = '{a}')";

    /// <summary>The response to <paramref name="requestId"/>, passing over pushes (presence, offline batches).</summary>
    private static async Task<System.Text.Json.JsonElement> ResponseAsync(RawClient client, string requestId)
    {
        while (true)
        {
            var frame = await client.ReadAsync(TimeSpan.FromSeconds(20));
            if (frame.TryGetProperty("request_id", out var id) && id.GetString() == requestId) return frame;
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--count", "10", "--prefix", "bad-prefix", "--password", Password, "--prefix")]
    [InlineData("--count", "10", "--prefix", "123", "--password", Password, "--prefix")]
    [InlineData("--count", "0", "--prefix", "P", "--password", Password, "--count")]
    [InlineData("--count", "10", "--prefix", "P", "--password", "short", "password")]
    [InlineData("--count", "10", "--prefix", "P", "--password", null, "provision-users needs")]
    [InlineData("--count", "11", "--prefix", "P", "--password", Password, "--friends pairs needs an even --count", "pairs")]
    [InlineData("--count", "10", "--prefix", "P", "--password", Password, "--friends: 'all'", "all")]
    [InlineData("--count", "10", "--prefix", "P", "--password", Password, "--friends groups:SIZE: '1' is not a whole number from 2", "groups:1")]
    public async Task Bad_options_are_usage_errors(string a, string b, string c, string d, string e, string? f, string expected,
        string? friends = null)
    {
        var env = ServerProcess.StackEnvironment("qkchat_test", ServerProcess.FreePort());
        string[] args = f is null ? ["provision-users", a, b, c, d] : ["provision-users", a, b, c, d, e, f];
        if (friends is not null) args = [.. args, "--friends", friends];
        await using var p = ServerProcess.Start(env, args);
        Assert.Equal(2, await p.WaitForExitAsync(Patience));
        Assert.Contains(expected, p.Output);
    }
}
