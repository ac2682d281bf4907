namespace QkChat.Server.Hosting;

/// <summary>The process's soft open-file limit, read from /proc (no P/Invoke needed for one number at start).</summary>
public static class FileLimit
{
    public static long Current()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // "Max open files  <soft>  <hard>  files": the soft limit is the fourth word.
                return parts.Length > 3 && long.TryParse(parts[3], out long soft) ? soft : -1;
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }
}
