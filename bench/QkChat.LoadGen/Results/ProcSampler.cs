using System.Globalization;
using System.Runtime.InteropServices;

namespace QkChat.LoadGen.Results;

/// <summary>Reads a process's resident memory and CPU time from /proc (Linux only; proc(5)).</summary>
public static partial class ProcSampler
{
    /// <summary>_SC_CLK_TCK in glibc's unistd.h: the unit of utime and stime in /proc/PID/stat.</summary>
    private const int ScClkTck = 2;

    private static readonly Lazy<double> TicksPerSecond = new(() =>
    {
        long ticks = OperatingSystem.IsLinux() ? Sysconf(ScClkTck) : -1;
        // USER_HZ is 100 on every Linux architecture we run on; only a failed call lands here.
        return ticks > 0 ? ticks : 100;
    });

    /// <summary>Samples process <paramref name="pid"/> ("self" when null); null if it is gone or /proc is not there.</summary>
    public static ProcessSample? Sample(int? pid, string label, long openConnections)
    {
        string dir = "/proc/" + (pid?.ToString(CultureInfo.InvariantCulture) ?? "self");
        try
        {
            long? rss = ReadRss(File.ReadAllText(dir + "/status"));
            double? cpu = ReadCpuSeconds(File.ReadAllText(dir + "/stat"));
            if (rss is null || cpu is null) return null;
            return new ProcessSample
            {
                Label = label,
                AtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                RssBytes = rss.Value,
                CpuSeconds = Math.Round(cpu.Value, 3),
                OpenConnections = openConnections,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"VmRSS:    123456 kB" in /proc/PID/status.</summary>
    internal static long? ReadRss(string status)
    {
        foreach (string line in status.Split('\n'))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out long kb) ? kb * 1024 : null;
        }
        return null;
    }

    /// <summary>utime + stime (fields 14 and 15 of /proc/PID/stat), counted after the parenthesised command name,
    /// which may itself contain spaces and parentheses.</summary>
    internal static double? ReadCpuSeconds(string stat)
    {
        int close = stat.LastIndexOf(')');
        if (close < 0) return null;
        string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        if (fields.Length < 13
            || !long.TryParse(fields[11], CultureInfo.InvariantCulture, out long utime)
            || !long.TryParse(fields[12], CultureInfo.InvariantCulture, out long stime))
            return null;
        return (utime + stime) / TicksPerSecond.Value;
    }

    /// <summary>The soft limit on open files of this process ("Max open files" in /proc/self/limits), or null.</summary>
    public static long? OpenFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                string[] parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length > 0 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out long soft) ? soft : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc hidden: the caller simply skips its check.
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);
}
