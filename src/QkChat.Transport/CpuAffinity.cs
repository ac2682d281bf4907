using System.Runtime.InteropServices;

namespace QkChat.Transport;

/// <summary>
/// Pins the calling thread to one CPU. Process.ProcessorAffinity only moves the main thread on Linux, so each
/// reactor calls this on itself (pid 0 = the calling thread for sched_setaffinity).
/// </summary>
internal static partial class CpuAffinity
{
    // glibc's cpu_set_t is 1024 bits: 16 x 64-bit words.
    private const int MaskWords = 16;

    public static bool TryPinCurrentThread(int cpu, out int error)
    {
        error = 0;
        if (!OperatingSystem.IsLinux() || cpu < 0 || cpu >= MaskWords * 64) return false;
        Span<ulong> mask = stackalloc ulong[MaskWords];
        mask.Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        unsafe
        {
            fixed (ulong* p = mask)
            {
                if (SchedSetAffinity(0, MaskWords * sizeof(ulong), p) == 0) return true;
            }
        }
        error = Marshal.GetLastPInvokeError();
        return false;
    }

    /// <summary>The kernel's id of the calling thread (what top -H, perf and /proc/self/task show); 0 off Linux.</summary>
    public static int CurrentOsThreadId() => OperatingSystem.IsLinux() ? GetTid() : 0;

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static unsafe partial int SchedSetAffinity(int pid, nint cpusetsize, ulong* mask);
}
