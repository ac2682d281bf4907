using Microsoft.Extensions.Logging;
using MimeKit;
using QkChat.Core.Accounts;
using QkChat.Server.Mail;
using Xunit;

namespace QkChat.IntegrationTests.Mail;

/// <summary>The .eml drop used when no relay is configured (`make run`): a readable file and a log line naming it.</summary>
public sealed class DropTransportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("qkchat-mail-").FullName, "mail");
    private readonly CapturingLogger _log = new();

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task Each_mail_becomes_a_whole_readable_eml_file_and_the_log_names_its_path()
    {
        var queue = new MailQueue(new MailQueueOptions(), MailboxAddress.Parse("QkChat <no-reply@qkchat.test>"), new DropTransport(_dir, _log), _log);
        Assert.True(queue.TryEnqueue(new VerificationMail("bob@example.net", "730451", CodePurpose.ResetPassword, TimeSpan.FromMinutes(5))));
        Assert.True(queue.TryEnqueue(new VerificationMail("carol@example.net", "118822", CodePurpose.Register, TimeSpan.FromMinutes(5))));
        await queue.DisposeAsync();
        Assert.Equal(2, queue.Sent);

        var files = Directory.GetFiles(_dir).Order().ToArray();
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.EndsWith(".eml", f));
        foreach (string file in files)
        {
            // The files hold live codes: owner-only.
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        var info = _log.At(LogLevel.Information).Where(l => l.Contains("written to")).ToList();
        Assert.Equal(2, info.Count);
        foreach (string file in files)
        {
            Assert.Contains(info, l => l.Contains(file));
            // A newcomer opens the file with less: the code is there in plain text.
            string raw = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
            var message = await MimeMessage.LoadAsync(file, TestContext.Current.CancellationToken);
            string code = message.To.Mailboxes.Single().Address.StartsWith("bob") ? "730451" : "118822";
            Assert.Contains(code, raw);
            Assert.Contains(code, message.TextBody);
        }
        Assert.Contains(_log.At(LogLevel.Information), l => l.Contains("no smtp.host configured") && l.Contains(_dir));
        Assert.DoesNotContain("730451", _log.All);
        Assert.DoesNotContain("bob", _log.All);
    }
}
