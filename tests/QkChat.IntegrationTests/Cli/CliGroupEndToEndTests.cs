using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Cli;

/// <summary>
/// The group commands of the published `qkchat` against the published qkchatd (docs/cli.md): two friends, provisioned
/// by `qkchatd provision-users --friends pairs`, each in a client of their own. alice creates a group with bob and writes
/// to it; bob sees the push as it arrives, reads the history, lists the members and leaves; alice is told. The test
/// reads what the clients print, as a person would, and checks their exit codes (0: every command succeeded).
/// </summary>
public sealed class CliGroupEndToEndTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const string Password = "group-chat-secret-1";

    [Fact(Timeout = 90_000)] // three qkchatd runs (migrate, provision, serve) before the clients start
    public async Task Two_friends_create_a_group_chat_in_it_and_one_leaves_through_qkchat()
    {
        string cli = CliEndToEndTests.CliBinary();
        await using var db = await TempDatabase.CreateAsync();
        // A loopback address of its own: the per-IP login limits live in the shared Redis.
        string host = AccountsHarness.RandomLoopback().ToString();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_HOST"] = host;
        await using (var migrate = ServerProcess.Start(env, "migrate"))
            Assert.Equal(0, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        // grp000000 and grp000001 are friends (pairs 2k, 2k+1).
        await using (var provision = ServerProcess.Start(env, "provision-users", "--count", "2", "--prefix", "grp", "--password", Password,
                         "--friends", "pairs"))
            Assert.Equal(0, await provision.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await using var server = ServerProcess.Start(env);
        await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(20));

        await using var alice = CliProcess.Start(cli, "alice's qkchat", "--host", host, "--port", port.ToString());
        await using var bob = CliProcess.Start(cli, "bob's qkchat", "--host", host, "--port", port.ToString());
        try
        {
            await RunAsync(alice, bob);
        }
        catch (Exception e)
        {
            throw new Exception($"{e.Message}\n--- alice ---\n{alice.Output}--- bob ---\n{bob.Output}--- qkchatd ---\n{server.Output}", e);
        }
    }

    private static async Task RunAsync(CliProcess alice, CliProcess bob)
    {
        const string a = "grp000000", b = "grp000001";
        long aliceId = await LoginAsync(alice, a);
        long bobId = await LoginAsync(bob, b);

        // alice creates the group with bob; bob is told he was added.
        alice.Send($"/gcreate weekend {bobId}");
        long group = long.Parse((await alice.WaitForAsync(new Regex(@"group (\d+) ""weekend"" created; /gsend \1 <text> writes to it"))).Groups[1].Value);
        bob.Send("/wait group_event");
        await bob.WaitForAsync($"* group {group}: {a} added you");

        // alice writes; bob sees the entry pushed, with alice's name.
        alice.Send($"/gsend {group} hello bob, this is the group");
        long seq = long.Parse((await alice.WaitForAsync(new Regex($@"\] \[group {group} #(\d+)\] me: hello bob, this is the group"))).Groups[1].Value);
        bob.Send("/wait group_message");
        await bob.WaitForAsync(new Regex($@"\] \[group {group} #{seq}\] {a}: hello bob, this is the group"));

        // bob's /ghistory: the timeline from his joining on, oldest first (his `member_added`, alice's text; `created`
        // at seq 1 came before he joined, so he does not see it: protocol.md §9), then marked read.
        int mark = bob.Mark;
        bob.Send($"/ghistory {group}");
        var added = await bob.WaitForAsync(new Regex($@"\] \[group {group} #2\] \* {a} added you\n"), mark);
        var text = await bob.WaitForAsync(new Regex($@"\] \[group {group} #{seq}\] {a}: hello bob, this is the group\n"), mark);
        Assert.True(added.Index < text.Index, "history is oldest first:\n" + bob.Output[mark..]);
        Assert.DoesNotContain("created the group", bob.Output[mark..]);
        bob.Send("/groups");
        await bob.WaitForAsync(new Regex($@"  {group}  weekend  \(member, 2 members\)\n"), mark);

        // /gmembers lists both, by user id, with their roles (and "you" for oneself).
        mark = bob.Mark;
        bob.Send($"/gmembers {group}");
        await bob.WaitForAsync(new Regex($@"  {aliceId}  {a}  owner  \w+\n"), mark);
        await bob.WaitForAsync(new Regex($@"  {bobId}  you  member  \w+\n"), mark);

        // bob leaves; alice is told.
        bob.Send($"/gleave {group}");
        await bob.WaitForAsync($"you left group {group}");
        alice.Send("/wait group_event");
        await alice.WaitForAsync($"* group {group}: {b} left");
        mark = alice.Mark;
        alice.Send($"/gmembers {group}");
        await alice.WaitForAsync(new Regex($@"  {aliceId}  you  owner  \w+\n"), mark);

        // The end of the input ends each client; 0 means every command succeeded (a failed one makes it 1).
        Assert.Equal(0, await alice.EndInputAsync(Patience));
        Assert.Equal(0, await bob.EndInputAsync(Patience));
        Assert.DoesNotContain(bobId.ToString(), alice.Output[mark..]);
    }

    /// <summary>Logs in (the password is asked for, so it is the next line); returns the user id printed.</summary>
    private static async Task<long> LoginAsync(CliProcess cli, string name)
    {
        cli.Send($"/login {name}", Password);
        var match = await cli.WaitForAsync(new Regex($@"logged in as {name} \(user id (\d+), device cli-[^)]+\)"));
        return long.Parse(match.Groups[1].Value);
    }
}
