using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Cli;

/// <summary>
/// `qkchat ws://host:port/ws` (docs/cli.md): the published client through the server's WebSocket gateway, talking
/// with a friend whose qkchat is on the chat port. Two friends are provisioned by `qkchatd provision-users --friends
/// pairs`; alice (WebSocket) writes to bob (TCP), bob answers, and the delivered mark comes back to alice.
/// </summary>
public sealed class CliWebSocketEndToEndTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const string Password = "websocket-secret-1";

    [Fact(Timeout = 90_000)] // three qkchatd runs (migrate, provision, serve) before the clients start
    public async Task A_qkchat_on_a_ws_url_chats_with_a_qkchat_on_the_chat_port()
    {
        string cli = CliEndToEndTests.CliBinary();
        await using var db = await TempDatabase.CreateAsync();
        // A loopback address of its own: the per-IP login limits live in the shared Redis.
        string host = AccountsHarness.RandomLoopback().ToString();
        int port = ServerProcess.FreePort();
        int httpPort = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_HOST"] = host;
        env["QKCHAT_HTTP_HOST"] = host;
        env["QKCHAT_HTTP_PORT"] = httpPort.ToString();
        await using (var migrate = ServerProcess.Start(env, "migrate"))
            Assert.Equal(0, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await using (var provision = ServerProcess.Start(env, "provision-users", "--count", "2", "--prefix", "wsc", "--password", Password,
                         "--friends", "pairs"))
            Assert.Equal(0, await provision.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await using var server = ServerProcess.Start(env);
        await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(20));

        await using var alice = CliProcess.Start(cli, "alice's qkchat (ws)", $"ws://{host}:{httpPort}/ws");
        await using var bob = CliProcess.Start(cli, "bob's qkchat (tcp)", "--host", host, "--port", port.ToString());
        try
        {
            const string a = "wsc000000", b = "wsc000001";
            long aliceId = await LoginAsync(alice, a);
            long bobId = await LoginAsync(bob, b);

            alice.Send($"/chat {bobId}");
            await alice.WaitForAsync($"chatting with");
            alice.Send("hello over a websocket");
            long first = long.Parse((await alice.WaitForAsync(new Regex(@"\] me -> \S+: hello over a websocket  \(#(\d+), sent\)"))).Groups[1].Value);
            bob.Send("/wait message");
            await bob.WaitForAsync(new Regex($@"\] {a}: hello over a websocket  \(#{first}\)"));
            alice.Send("/wait message_status");
            await alice.WaitForAsync($"* #{first} delivered");

            bob.Send($"/chat {aliceId}");
            await bob.WaitForAsync("chatting with");
            bob.Send("and back over tcp");
            alice.Send("/wait message");
            await alice.WaitForAsync(new Regex($@"\] {b}: and back over tcp  \(#\d+\)"));

            Assert.Equal(0, await alice.EndInputAsync(Patience));
            Assert.Equal(0, await bob.EndInputAsync(Patience));
        }
        catch (Exception e)
        {
            throw new Exception($"{e.Message}\n--- alice ---\n{alice.Output}--- bob ---\n{bob.Output}--- qkchatd ---\n{server.Output}", e);
        }
    }

    private static async Task<long> LoginAsync(CliProcess cli, string name)
    {
        cli.Send($"/login {name}", Password);
        var match = await cli.WaitForAsync(new Regex($@"logged in as {name} \(user id (\d+), device cli-[^)]+\)"));
        return long.Parse(match.Groups[1].Value);
    }
}
