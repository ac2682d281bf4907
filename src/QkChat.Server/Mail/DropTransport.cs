using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using MimeKit;
using ZLogger;

namespace QkChat.Server.Mail;

/// <summary>
/// Writes each mail as an .eml file, for development (`make run`) where no relay exists: a newcomer reads the code
/// from the file named in the log. Files appear whole or not at all (temp file, then rename), so a watcher never
/// reads half a mail.
/// </summary>
internal sealed partial class DropTransport : IMailTransport
{
    private readonly string _dir;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public DropTransport(string dir, ILogger logger, TimeProvider? time = null)
    {
        _dir = Path.GetFullPath(dir);
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public string Description => $"no smtp.host configured: mails are written as .eml files under {_dir}";

    public bool HoldsConnection => false;

    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        // 0700/0600: the files hold live verification codes. (qkchatd targets Linux; the guard keeps the analyzer honest.)
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(_dir);
        else
            Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // Sortable by time; the random part keeps two mails in the same millisecond (or from two nodes) apart.
        string name = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture)
            + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + ".eml";
        string path = Path.Combine(_dir, name);
        string temp = Path.Combine(_dir, "." + name + ".tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new FileStream(temp, options))
            {
                await message.WriteToAsync(file, ct);
                await file.FlushAsync(ct);
            }
            File.Move(temp, path, overwrite: false);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        LogWritten(_logger, MailFailure.Domain(message), path);
    }

    public Task CloseIdleAsync(CancellationToken ct) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [ZLoggerMessage(LogLevel.Information, "mail to @{domain} written to {path} (no smtp.host configured: open the file to read the code)")]
    private static partial void LogWritten(ILogger logger, string domain, string path);
}
