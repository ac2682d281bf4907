using System.Collections.Concurrent;
using QkChat.Core.Accounts;
using QkChat.Server.Security;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class ThreadNiceTests
{
    /// <summary>Field 19 of /proc/thread-self/stat is the thread's nice value (after the parenthesised name).</summary>
    private static int CurrentNice()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16]); // fields[0] is field 3 (state)
    }

    [Fact]
    public void Lowering_applies_to_the_calling_thread_only()
    {
        int before = CurrentNice(), inside = -100, other = -100;
        var lowered = new Thread(() => { ThreadNice.LowerCurrentThread(5); inside = CurrentNice(); });
        lowered.Start();
        lowered.Join();
        var untouched = new Thread(() => other = CurrentNice());
        untouched.Start();
        untouched.Join();
        // Linux caps nice at 19: a test run that is itself niced (CI runners often are) sees the cap.
        Assert.Equal(Math.Min(before + 5, 19), inside);
        Assert.Equal(before, other);
    }

    [Fact]
    public void The_password_pool_runs_the_start_hook_once_on_each_worker()
    {
        var names = new ConcurrentBag<string?>();
        using (new PasswordWorkPool(new Argon2idPasswordHasher(8 * 1024, 1), workers: 3,
                   workerStart: () => names.Add(Thread.CurrentThread.Name)))
        {
            SpinWait.SpinUntil(() => names.Count == 3, TimeSpan.FromSeconds(5));
        }
        Assert.Equal(["qkchat-pwhash-0", "qkchat-pwhash-1", "qkchat-pwhash-2"], names.Order());
    }
}
