using System.Text.RegularExpressions;
using MimeKit;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Cli;

/// <summary>
/// The published `qkchat` against the published qkchatd, as a newcomer uses them from two terminals: both register
/// with the e-mailed code (read from the server's .eml drop), log in, become friends and chat. Commands go in on
/// stdin while the clients keep running; the test reads what they print, as a person would, and checks their exit
/// codes (0: every command succeeded).
/// </summary>
public sealed partial class CliEndToEndTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact(Timeout = 60_000)]
    public async Task Two_newcomers_register_befriend_and_chat_through_qkchat()
    {
        string cli = CliBinary();
        await using var db = await TempDatabase.CreateAsync();
        string mailDir = Directory.CreateTempSubdirectory("qkchat-cli-mail-").FullName;
        try
        {
            // The server listens on a loopback address of its own, so the clients connect from it too: the per-IP code
            // and login limits live in the stack's shared Redis, and other tests use 127.0.0.1.
            string host = AccountsHarness.RandomLoopback().ToString();
            int port = ServerProcess.FreePort();
            var env = ServerProcess.StackEnvironment(db.Name, port);
            env["QKCHAT_HOST"] = host;
            env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
            env["QKCHAT_MAIL_DIR"] = mailDir;
            await using var server = ServerProcess.Start(env);
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(20));

            await using var alice = CliProcess.Start(cli, "alice's qkchat", "--host", host, "--port", port.ToString());
            await using var bob = CliProcess.Start(cli, "bob's qkchat", "--host", host, "--port", port.ToString());
            try
            {
                var passwords = await RunAsync(alice, bob, mailDir);
                foreach (string password in passwords) Assert.DoesNotContain(password, server.Output);
            }
            catch (Exception e)
            {
                throw new Exception($"{e.Message}\n--- alice ---\n{alice.Output}--- bob ---\n{bob.Output}--- qkchatd ---\n{server.Output}", e);
            }
        }
        finally
        {
            Directory.Delete(mailDir, recursive: true);
        }
    }

    /// <summary>The whole conversation; returns the passwords used.</summary>
    private static async Task<string[]> RunAsync(CliProcess alice, CliProcess bob, string mailDir)
    {
        // Names and addresses are unique per run: the code cooldown per address lives in the shared Redis.
        string suffix = Guid.NewGuid().ToString("N")[..8];
        var a = new Newcomer("alice_" + suffix, "alice." + suffix + "@example.org", "alice's long secret " + suffix);
        var b = new Newcomer("bob_" + suffix, "bob." + suffix + "@example.org", "bob's long secret " + suffix);

        // Both register with the mailed code and log in; the password is asked for, so it is the next line.
        foreach (var (person, cli) in new[] { (a, alice), (b, bob) })
        {
            cli.Send($"/code {person.Email}");
            await cli.WaitForAsync($"a code is on its way to {person.Email}");
            string code = await MailedCodeAsync(mailDir, person.Email);
            cli.Send($"/register {person.Name} {person.Email} {code}", person.Password);
            person.Id = long.Parse((await cli.WaitForAsync(new Regex($@"registered {person.Name} \(user id (\d+)\)"))).Groups[1].Value);
            cli.Send($"/login {person.Name}", person.Password);
            await cli.WaitForAsync(new Regex($@"logged in as {person.Name} \(user id {person.Id}, device cli-[^)]+\)"));
        }
        Assert.NotEqual(a.Id, b.Id);

        // alice adds bob; bob sees the request as it arrives and accepts it by the number shown.
        alice.Send($"/add {b.Name} hi bob, it's alice");
        long requestId = long.Parse((await alice.WaitForAsync(new Regex($@"friend request #(\d+) sent to {b.Name}"))).Groups[1].Value);
        bob.Send("/wait friend_request");
        await bob.WaitForAsync(new Regex(
            $@"\* friend request #{requestId} from {a.Name} \({a.Id}\): ""hi bob, it's alice"" -- /accept {requestId} or /reject {requestId}"));
        bob.Send($"/accept {requestId}");
        await bob.WaitForAsync($"accepted friend request #{requestId}");
        alice.Send("/wait friend_request_result");
        await alice.WaitForAsync($"* {b.Name} and you are now friends (request #{requestId})");

        // alice opens the chat and writes; bob sees the text (and acknowledges it: alice is told it was delivered).
        alice.Send($"/chat {b.Name}");
        await alice.WaitForAsync($"chatting with {b.Name} ({b.Id})");
        alice.Send("hello bob, this is alice");
        long first = long.Parse((await alice.WaitForAsync(new Regex($@"\] me -> {b.Name}: hello bob, this is alice  \(#(\d+), sent\)"))).Groups[1].Value);
        bob.Send("/wait message");
        await bob.WaitForAsync(new Regex($@"\] {a.Name}: hello bob, this is alice  \(#{first}\)"));
        alice.Send("/wait message_status");
        await alice.WaitForAsync($"* #{first} delivered ({b.Name})");

        // bob replies in his own chat with alice; alice sees it arrive.
        bob.Send($"/chat {a.Name}");
        await bob.WaitForAsync($"chatting with {a.Name} ({a.Id})");
        bob.Send("hi alice, got it");
        long second = long.Parse((await bob.WaitForAsync(new Regex($@"\] me -> {a.Name}: hi alice, got it  \(#(\d+), sent\)"))).Groups[1].Value);
        Assert.True(second > first, $"message ids: #{first} then #{second}");
        alice.Send("/wait message");
        await alice.WaitForAsync(new Regex($@"\] {b.Name}: hi alice, got it  \(#{second}\)"));

        // /history: both messages, oldest first, alice's own marked as hers.
        int mark = alice.Mark;
        alice.Send("/history");
        var mine = await alice.WaitForAsync(new Regex($@"\] me -> {b.Name}: hello bob, this is alice  \(#{first}, \w+\)"), mark);
        var theirs = await alice.WaitForAsync(new Regex($@"\] {b.Name}: hi alice, got it  \(#{second}\)"), mark);
        Assert.True(mine.Index < theirs.Index, "history is oldest first:\n" + alice.Output[mark..]);
        Assert.DoesNotContain("earlier messages", alice.Output[mark..]);

        // The end of the input ends each client; 0 means every command succeeded (a failed one makes it 1).
        Assert.Equal(0, await alice.EndInputAsync(Patience));
        Assert.Equal(0, await bob.EndInputAsync(Patience));
        // Passwords read from the input are not echoed.
        Assert.DoesNotContain(a.Password, alice.Output);
        Assert.DoesNotContain(b.Password, bob.Output);
        return [a.Password, b.Password];
    }

    /// <summary>The six-digit code in the .eml the server wrote for <paramref name="email"/>.</summary>
    private static async Task<string> MailedCodeAsync(string mailDir, string email)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            foreach (string file in Directory.GetFiles(mailDir, "*.eml"))
            {
                var message = await MimeMessage.LoadAsync(file);
                if (!message.To.Mailboxes.Any(m => string.Equals(m.Address, email, StringComparison.OrdinalIgnoreCase))) continue;
                var code = SixDigits().Match(message.TextBody ?? "");
                Assert.True(code.Success, $"no code in {file}:\n{message.TextBody}");
                return code.Value;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"no mail to {email} in {mailDir}");
    }

    /// <summary>The published qkchat, next to the published qkchatd (QKCHAT_TEST_SERVER_BIN, which make test sets).</summary>
    internal static string CliBinary()
    {
        string? server = Environment.GetEnvironmentVariable("QKCHAT_TEST_SERVER_BIN");
        Assert.False(server is null || !File.Exists(server),
            $"QKCHAT_TEST_SERVER_BIN ('{server}') must name the published qkchatd: this test runs the published qkchat next to it " +
            "(make test sets it; else `scripts/publish.sh linux-x64 dist` and QKCHAT_TEST_SERVER_BIN=dist/qkchatd)");
        string cli = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(server!))!, "qkchat");
        Assert.True(File.Exists(cli), $"{cli} is missing: publish the client next to qkchatd (`scripts/publish.sh linux-x64 dist`)");
        return cli;
    }

    private sealed record Newcomer(string Name, string Email, string Password)
    {
        public long Id { get; set; }
    }

    [GeneratedRegex(@"\b\d{6}\b")]
    private static partial Regex SixDigits();
}
