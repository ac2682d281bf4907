using System.Text.RegularExpressions;
using MimeKit;
using QkChat.Client;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>
/// The whole account flow through the published qkchatd (Native AOT: Argon2id through libsodium, MailKit, Redis
/// scripts), with mail written as .eml files the way `make run` does it.
/// </summary>
public sealed partial class BinaryAccountFlowTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_newcomer_registers_with_the_mailed_code_and_logs_in()
    {
        await using var db = await TempDatabase.CreateAsync();
        string mailDir = Directory.CreateTempSubdirectory("qkchat-mail-").FullName;
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_MAIL_DIR"] = mailDir;
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));

        string name = AccountsHarness.UniqueName(), email = name + "@example.org";
        // From an address of its own: the per-address code budget (20 an hour) is shared with every other test's Redis use.
        await using var client = await ChatClient.ConnectAsync("127.0.0.1", port, new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });
        await AccountsHarness.Ok(client.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "register"); }));

        string eml = await WaitForFileAsync(mailDir);
        // The log says where the mail went. The file is renamed into place before the line is logged, and the
        // console logger writes asynchronously, so the line may trail the file by a moment.
        await p.WaitForOutputAsync(eml, TimeSpan.FromSeconds(10));
        var message = await MimeMessage.LoadAsync(eml);
        string code = SixDigits().Match(message.TextBody ?? "").Value;
        Assert.Contains(code, Regex.Replace(message.HtmlBody ?? "", @"<[^>]+>|\s|&nbsp;", ""));
        Assert.DoesNotContain(code, p.Output); // codes never reach the log

        await AccountsHarness.Ok(client.RequestAsync("register", w =>
        {
            w.WriteString("username", name);
            w.WriteString("email", email);
            w.WriteString("password", "a long enough secret");
            w.WriteString("verification_code", code);
        }));
        var login = await AccountsHarness.Ok(AccountsHarness.Login(client, email, "a long enough secret"));
        Assert.Equal(name, login.Data!.Value.GetProperty("username").GetString());
        Assert.DoesNotContain("a long enough secret", p.Output);
    }

    private static async Task<string> WaitForFileAsync(string dir)
    {
        for (int i = 0; i < 200; i++)
        {
            var file = Directory.GetFiles(dir, "*.eml").FirstOrDefault();
            if (file is not null) return file;
            await Task.Delay(50);
        }
        throw new TimeoutException("no .eml in " + dir);
    }

    [GeneratedRegex(@"\b\d{6}\b")]
    private static partial Regex SixDigits();
}
