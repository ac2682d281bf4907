using System.Runtime.InteropServices;

namespace QkChat.Server.Security;

/// <summary>
/// Lowers the calling thread's scheduling priority. .NET's Thread.Priority does nothing on Linux, but
/// setpriority(PRIO_PROCESS, tid) applies to one thread there and needs no privilege to lower it. The password
/// workers run at nice 10: the kernel then gives the reactors (nice 0) about ten times their CPU share whenever
/// both want to run, so heartbeats stay fast during a login storm while hashing still uses every idle cycle.
/// </summary>
internal static partial class ThreadNice
{
    /// <summary>Nice 10: CFS weights it at about a tenth of nice 0, enough to yield without starving.</summary>
    public const int HashWorkerNice = 10;

    public static void LowerCurrentThread(int nice = HashWorkerNice)
    {
        if (!OperatingSystem.IsLinux()) return;
        // Best effort: if it fails the pool still works, only without the priority difference.
        _ = SetPriority(0 /* PRIO_PROCESS */, GetTid(), nice);
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);
}
