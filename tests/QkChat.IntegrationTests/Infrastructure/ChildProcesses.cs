using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.v3;

[assembly: QkChat.IntegrationTests.Infrastructure.KillChildProcessesAfterTest]

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// Every child process a test starts (qkchatd, redis-server, mariadbd, qkchat), so that none outlives its test. A
/// test's own `await using`/finally disposes its children when the body ends; this covers the ways a body does not
/// get there: xunit's Timeout (it fails the test and cancels <see cref="TestContext.CancellationToken"/>, but does not
/// wait for the body, which may be stuck in a child's wait), a test that starts a server without disposing it on
/// every path, and a runner that ends with bodies still running. Then stray qkchatd processes kept ports and
/// databases busy after CI. A child is killed with its whole process tree (a script's servers too) when, first of:
/// its test's token is cancelled; its test ends (<see cref="KillChildProcessesAfterTestAttribute"/>, run after every
/// test, passed or not); the runner process exits. Children started outside a test (a fixture) are the fixture's to
/// dispose, and the runner's exit catches any it leaves.
/// </summary>
internal static class ChildProcesses
{
    private static readonly Lock Gate = new();
    private static readonly List<(Process Process, string? Test)> Live = [];

    static ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillWhere(_ => true);

    /// <summary>Call right after <paramref name="process"/> started; returns it.</summary>
    public static Process Track(Process process)
    {
        var context = TestContext.Current;
        string? test = context.Test?.UniqueID;
        lock (Gate) Live.Add((process, test));
        if (test is not null) context.CancellationToken.Register(() => KillWhere(p => p.Process == process));
        return process;
    }

    /// <summary>Kills the children started by the test <paramref name="testId"/> that are still running.</summary>
    public static void KillStartedBy(string testId) => KillWhere(p => p.Test == testId);

    private static void KillWhere(Func<(Process Process, string? Test), bool> which)
    {
        List<Process> doomed;
        lock (Gate)
        {
            doomed = [.. Live.Where(which).Select(p => p.Process)];
            Live.RemoveAll(p => doomed.Contains(p.Process));
        }
        foreach (var process in doomed) KillTree(process);
    }

    private static void KillTree(Process process)
    {
        try
        {
            if (process.HasExited) return;
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Not started, already reaped or disposed: nothing left to kill.
        }
    }
}

/// <summary>Kills what the test that just ended started and left running (<see cref="ChildProcesses"/>).</summary>
[AttributeUsage(AttributeTargets.Assembly)]
internal sealed class KillChildProcessesAfterTestAttribute : BeforeAfterTestAttribute
{
    public override void After(MethodInfo methodUnderTest, IXunitTest test) => ChildProcesses.KillStartedBy(test.UniqueID);
}
