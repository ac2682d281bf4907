using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Server;

/// <summary>
/// The Kestrel hosts of the web and admin listeners carry no file watching of their own. Before the fix each was
/// built with WebApplication.CreateSlimBuilder, which loads appsettings.json from the working directory with
/// reload-on-change: a FileSystemWatcher over the whole working directory tree (the package's /var/lib/qkchat, with
/// the file store under it), one inotify instance and one ".NET File Watch" thread per host, woken by every write
/// below it. A profile of qkchatd under heartbeat load (bench/RESULTS.md, issue 22 point 4) found those threads
/// taking CPU while the load generator and the server's own log wrote beside them.
/// </summary>
public sealed class ListenerHostTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 120_000)]
    public async Task The_web_and_admin_listeners_watch_no_files()
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience);
        Assert.Contains("web listener on", p.Output);
        Assert.Contains("admin listener on", p.Output);

        // An inotify instance shows as a descriptor linked to "anon_inode:inotify"; qkchatd has no use for one.
        var inotify = Directory.GetFiles($"/proc/{p.ProcessId}/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target == "anon_inode:inotify")
            .ToList();
        Assert.Empty(inotify);
        var watchers = Directory.GetDirectories($"/proc/{p.ProcessId}/task")
            .Select(task => { try { return File.ReadAllText(Path.Combine(task, "comm")).Trim(); } catch (IOException) { return ""; } })
            .Where(name => name.Contains("File Watch", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(watchers);
    }
}
