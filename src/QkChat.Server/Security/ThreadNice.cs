using System.Runtime.InteropServices;

namespace QkChat.Server.Security;

/// <summary>
/// Lowers the calling thread's scheduling priority. .NET's Thread.Priority does nothing on Linux, but
/// setpriority(PRIO_PROCESS, tid) applies to one thread there and needs no privilege to lower it. The password
/// workers run at the weakest nice, 19: the kernel then gives the reactors (nice 0) about 70 times their CPU share
/// whenever both want to run, so heartbeats stay fast during a login storm while hashing still uses every idle cycle.
/// The step is relative: under a niced service (systemd Nice=, a niced CI runner) an absolute value could give
/// the workers a higher priority than the reactors, which is the opposite of the point.
/// </summary>
internal static partial class ThreadNice
{
    /// <summary>10 steps: CFS weights the thread at about a tenth of its siblings, enough to yield without starving.</summary>
    public const int HashWorkerNice = 19;

    // Linux's weakest priority.
    private const int MaxNice = 19;

    /// <summary>Raises the calling thread's nice value by <paramref name="steps"/> (capped at 19).</summary>
    public static void LowerCurrentThread(int steps = HashWorkerNice)
    {
        if (!OperatingSystem.IsLinux()) return;
        int tid = GetTid();
        // getpriority may return -1 as a real nice value; only errno tells a failure apart.
        Marshal.SetLastPInvokeError(0);
        int current = GetPriority(0 /* PRIO_PROCESS */, tid);
        if (current == -1 && Marshal.GetLastPInvokeError() != 0) return;
        // Best effort: if it fails the pool still works, only without the priority difference.
        _ = SetPriority(0, tid, Math.Min(current + steps, MaxNice));
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);
}
