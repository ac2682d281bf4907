namespace QkChat.IntegrationTests.Packaging;

/// <summary>
/// An empty system root for `dpkg --root`: a dpkg database and the account files useradd needs, nothing else. So a
/// package can be installed, its scripts run and it purged without touching this (shared) machine's own system.
/// </summary>
internal sealed class ThrowawayRoot : IDisposable
{
    private static readonly string[] AccountFiles = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"];

    /// <summary>What the root starts with, or what any real system has anyway (/var/log). dpkg's own database and
    /// the account files with their "-" backups are the skeleton too.</summary>
    private static readonly string[] Skeleton = ["/etc", "/var", "/var/lib", "/var/log"];

    public string Path { get; } = PackageBuild.NewTempDir("root");

    public ThrowawayRoot()
    {
        foreach (string dir in new[] { "/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/var/lib/dpkg/triggers", "/etc" })
            Directory.CreateDirectory(At(dir));
        File.WriteAllText(At("/var/lib/dpkg/status"), "");
        File.WriteAllText(At("/var/lib/dpkg/available"), "");
        File.WriteAllText(At("/etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        File.WriteAllText(At("/etc/group"), "root:x:0:\n");
        File.WriteAllText(At("/etc/shadow"), "root:*:19000:0:99999:7:::\n");
        File.WriteAllText(At("/etc/gshadow"), "root:*::\n");
    }

    public string At(string absolute) => Path + absolute;

    /// <summary>Every file, and every directory holding no such file, that the skeleton did not have.</summary>
    public List<string> FilesBeyondTheSkeleton()
    {
        var extra = new List<string>();
        foreach (string full in Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories))
        {
            string rel = full[Path.Length..];
            if (Skeleton.Contains(rel) || rel.StartsWith("/var/lib/dpkg", StringComparison.Ordinal)) continue;
            if (AccountFiles.Any(a => rel == a || rel == a + "-")) continue;
            if (Directory.Exists(full) && Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Any()) continue;
            extra.Add(rel);
        }
        extra.Sort(StringComparer.Ordinal);
        return extra;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
