using System.Security.Cryptography;
using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Cli;

/// <summary>
/// issue 21: `/send-file` and `/get-file` of the published `qkchat` against the published qkchatd, with the public HTTP
/// listener behind a relay that drops one connection mid-transfer. alice sends bob a file of several chunks: the third
/// PATCH is cut, the client asks HEAD and resumes from the server's offset, the message arrives with its file; bob's
/// download is cut halfway and resumed with a Range; the saved bytes are alice's. Then the same in a group chat
/// (/gchat). Output is not a terminal here, so progress comes as plain lines (each tenth).
/// </summary>
public sealed class CliFileEndToEndTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string Password = "file-chat-secret-1";
    private const int ChunkBytes = 64 * 1024; // the smallest files.chunk_bytes: a small file spans several chunks

    [Fact(Timeout = 120_000)] // three qkchatd runs (migrate, provision, serve), two clients, resumes after 0.5 s back-offs
    public async Task A_file_goes_to_a_friend_and_a_group_through_cuts_and_comes_back_byte_for_byte()
    {
        string cli = CliEndToEndTests.CliBinary();
        await using var db = await TempDatabase.CreateAsync();
        string work = Directory.CreateTempSubdirectory("qkchat-cli-files-").FullName;
        try
        {
            string host = AccountsHarness.RandomLoopback().ToString();
            int port = ServerProcess.FreePort(), httpPort = ServerProcess.FreePort();
            await using var proxy = new CuttingProxy(httpPort);
            var env = ServerProcess.StackEnvironment(db.Name, port);
            env["QKCHAT_HOST"] = host;
            env["QKCHAT_HTTP_PORT"] = httpPort.ToString();
            env["QKCHAT_FILES_DIR"] = Path.Combine(work, "store");
            env["QKCHAT_FILES_CHUNK_BYTES"] = ChunkBytes.ToString();
            env["QKCHAT_FILES_PUBLIC_URL"] = $"http://127.0.0.1:{proxy.Port}";
            await using (var migrate = ServerProcess.Start(env, "migrate"))
                Assert.Equal(0, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            await using (var provision = ServerProcess.Start(env, "provision-users", "--count", "2", "--prefix", "fil", "--password", Password,
                             "--friends", "pairs"))
                Assert.Equal(0, await provision.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            await using var server = ServerProcess.Start(env);
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));

            await using var alice = CliProcess.Start(cli, "alice's qkchat", "--host", host, "--port", port.ToString());
            await using var bob = CliProcess.Start(cli, "bob's qkchat", "--host", host, "--port", port.ToString());
            try
            {
                await RunAsync(alice, bob, proxy, work);
            }
            catch (Exception e)
            {
                throw new Exception($"{e.Message}\n--- alice ---\n{alice.Output}--- bob ---\n{bob.Output}--- qkchatd ---\n{server.Output}", e);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunAsync(CliProcess alice, CliProcess bob, CuttingProxy proxy, string work)
    {
        const string a = "fil000000", b = "fil000001";
        await LoginAsync(alice, a);
        long bobId = await LoginAsync(bob, b);

        byte[] bytes = RandomNumberGenerator.GetBytes(5 * ChunkBytes + 1234);
        string source = Path.Combine(work, "holiday plan.bin");
        await File.WriteAllBytesAsync(source, bytes);

        // alice sends it to bob; the third chunk's PATCH is cut off midway (a chunk and a half plus headers upstream).
        alice.Send($"/chat {b}");
        await alice.WaitForAsync($"chatting with");
        proxy.CutUpstreamAfter(2 * ChunkBytes + ChunkBytes / 2);
        int mark = alice.Mark;
        alice.Send($"/send-file \"{source}\" for the weekend");
        var resumed = await alice.WaitForAsync(new Regex(@"the upload was cut \(.*\); resuming at (\d+\.\d) KiB"), mark, Patience);
        // The server kept whole chunks only: the offset is a chunk boundary at or before the cut, never past it.
        double resumedKiB = double.Parse(resumed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(resumedKiB, new[] { 0.0, 64.0, 128.0 });
        var sent = await alice.WaitForAsync(new Regex(@"me -> fil000001: \[file (\d+): holiday plan\.bin, 321\.2 KiB\] for the weekend  \(#\d+, \w+\)"),
            mark, Patience);
        long fileId = long.Parse(sent.Groups[1].Value);
        await alice.WaitForAsync(new Regex(@"sending holiday plan\.bin \[#+\] 100%"), mark);
        Assert.Equal(1, proxy.Cuts);

        // bob sees the message with its file, then downloads it; the download is cut halfway and resumed with a Range.
        bob.Send("/wait message");
        await bob.WaitForAsync($"fil000000: [file {fileId}: holiday plan.bin, 321.2 KiB] for the weekend");
        proxy.CutDownstreamAfter(bytes.Length / 2);
        string saved = Path.Combine(work, "from alice.bin");
        mark = bob.Mark;
        bob.Send($"/get-file {fileId} \"{saved}\"");
        await bob.WaitForAsync($"file {fileId}: saved 321.2 KiB to {saved} (sha256 checked)", mark, Patience);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));
        Assert.False(File.Exists(saved + ".part"));
        Assert.Equal(2, proxy.Cuts);
        Assert.Contains(proxy.Heads, h => h.StartsWith("GET ", StringComparison.Ordinal) && Regex.IsMatch(h, @"\r\nRange: bytes=[1-9]\d*-\r\n"));

        // A group: alice makes it the current chat and sends a second file there; bob's client shows the entry.
        alice.Send($"/gcreate trip {bobId}");
        long group = long.Parse((await alice.WaitForAsync(new Regex(@"group (\d+) ""trip"" created"))).Groups[1].Value);
        alice.Send($"/gchat {group}");
        await alice.WaitForAsync($"chatting in group {group}");
        string small = Path.Combine(work, "map.txt");
        await File.WriteAllTextAsync(small, "north, then left at the old mill\n");
        alice.Send($"/send-file \"{small}\"");
        var entry = await alice.WaitForAsync(new Regex($@"\[group {group} #(\d+)\] me: \[file (\d+): map\.txt, 33 B\]"), 0, Patience);
        bob.Send("/wait group_message");
        await bob.WaitForAsync($"[group {group} #{entry.Groups[1].Value}] {a}: [file {entry.Groups[2].Value}: map.txt, 33 B]");
        // Into a directory: the file keeps the name alice gave it.
        string downloads = Directory.CreateDirectory(Path.Combine(work, "downloads")).FullName;
        bob.Send($"/get-file {entry.Groups[2].Value} \"{downloads}\"");
        await bob.WaitForAsync($"file {entry.Groups[2].Value}: saved 33 B to {Path.Combine(downloads, "map.txt")} (sha256 checked)", 0, Patience);
        Assert.Equal(await File.ReadAllBytesAsync(small), await File.ReadAllBytesAsync(Path.Combine(downloads, "map.txt")));

        Assert.Equal(0, await alice.EndInputAsync(Patience));
        Assert.Equal(0, await bob.EndInputAsync(Patience));
    }

    private static async Task<long> LoginAsync(CliProcess cli, string name)
    {
        cli.Send($"/login {name}", Password);
        var match = await cli.WaitForAsync(new Regex($@"logged in as {name} \(user id (\d+), device cli-[^)]+\)"));
        return long.Parse(match.Groups[1].Value);
    }
}
