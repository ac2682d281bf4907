using System.Runtime.Versioning;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Packaging;

/// <summary>
/// The .deb from scripts/package-deb.sh: its control data and file list as dpkg-deb shows them, then a real
/// `dpkg --root` install into a throwaway root (never this machine's own dpkg database), with the maintainer
/// scripts run chrootless so they act on that root through DPKG_ROOT.
/// </summary>
[SupportedOSPlatform("linux")] // dpkg, and Unix file modes
public sealed class DebPackageTests(DebFixture package) : IClassFixture<DebFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task Control_fields_conffiles_and_files_are_as_documented()
    {
        var fields = (await Run("dpkg-deb", "-f", package.Deb, "Package", "Version", "Architecture", "Depends", "Recommends")).Stdout;
        Assert.Contains("Package: qkchat\n", fields);
        Assert.Contains($"Version: {PackageBuild.Version}\n", fields);
        Assert.Contains("Architecture: amd64\n", fields);
        Assert.Matches(@"Depends: libc6 \(>= 2\.\d+\), libssl3 \| libssl3t64, passwd\n", fields);
        Assert.Contains("Recommends: mariadb-server, redis-server\n", fields);

        var conffiles = (await Run("dpkg-deb", "-I", package.Deb, "conffiles")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["/etc/default/qkchat", "/etc/qkchat/server.json"], conffiles);

        // "-rwxr-xr-x root/root 12971680 2026-11-25 05:47 ./usr/lib/qkchat/qkchatd" -> path => (mode, owner, "")
        // "lrwxrwxrwx root/root 0 2026-11-25 05:47 ./usr/bin/qkchatd -> ../lib/qkchat/qkchatd" -> (..., link target)
        var entries = (await Run("dpkg-deb", "-c", package.Deb)).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[5][1..], f => (Mode: f[0], Owner: f[1], Target: f.Length > 7 && f[6] == "->" ? f[7] : ""));
        Assert.All(entries, e => Assert.Equal("root/root", e.Value.Owner));
        Assert.DoesNotContain(entries.Keys, p => p.EndsWith(".dbg", StringComparison.Ordinal) || p.EndsWith(".pdb", StringComparison.Ordinal));

        // The real binaries and the libsodium.so qkchatd loads from its own directory; /usr/bin holds relative symlinks.
        var expected = new Dictionary<string, string>
        {
            ["/usr/lib/qkchat/qkchatd"] = "-rwxr-xr-x",
            ["/usr/lib/qkchat/qkchat-loadgen"] = "-rwxr-xr-x",
            ["/usr/lib/qkchat/qkchat"] = "-rwxr-xr-x",
            ["/usr/lib/qkchat/libsodium.so"] = "-rw-r--r--",
            ["/usr/bin/qkchatd"] = "lrwxrwxrwx",
            ["/usr/bin/qkchat-loadgen"] = "lrwxrwxrwx",
            ["/usr/bin/qkchat"] = "lrwxrwxrwx",
            ["/etc/qkchat/server.json"] = "-rw-r--r--",
            ["/etc/default/qkchat"] = "-rw-r--r--",
            ["/lib/systemd/system/qkchat.service"] = "-rw-r--r--",
            ["/lib/systemd/system/qkchat@.service"] = "-rw-r--r--",
            ["/usr/share/doc/qkchat/cluster.md"] = "-rw-r--r--",
            ["/usr/share/doc/qkchat/README.md"] = "-rw-r--r--",
            ["/usr/share/doc/qkchat/configuration.md"] = "-rw-r--r--",
            ["/usr/share/doc/qkchat/tuning.md"] = "-rw-r--r--",
            ["/usr/share/doc/qkchat/packaging.md"] = "-rw-r--r--",
        };
        foreach (string sql in Directory.GetFiles(Path.Combine(TestStack.RepoRoot, "sql"), "*.sql"))
            expected["/usr/share/qkchat/sql/" + Path.GetFileName(sql)] = "-rw-r--r--";
        foreach (var (path, mode) in expected)
        {
            Assert.True(entries.TryGetValue(path, out var entry), $"{path} is not in the package");
            Assert.Equal(mode, entry.Mode);
        }
        Assert.Equal("../lib/qkchat/qkchatd", entries["/usr/bin/qkchatd"].Target);
        Assert.Equal("../lib/qkchat/qkchat-loadgen", entries["/usr/bin/qkchat-loadgen"].Target);
        Assert.Equal("../lib/qkchat/qkchat", entries["/usr/bin/qkchat"].Target);
        // Nothing else but directories and the optional docs.
        Assert.All(entries.Where(e => !e.Value.Mode.StartsWith('d') && !expected.ContainsKey(e.Key)),
            e => Assert.StartsWith("/usr/share/doc/qkchat/", e.Key));

        string control = PackageBuild.NewTempDir("control");
        try
        {
            await Run("dpkg-deb", "-e", package.Deb, control);
            foreach (string script in new[] { "postinst", "prerm", "postrm" })
                Assert.Equal(UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(control, script)) & UnixFileMode.UserExecute);
        }
        finally
        {
            Directory.Delete(control, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_doc_its_files_point_to_is_in_the_package()
    {
        // Files and maintainer scripts (DEBIAN/) as they are in the .deb: server.json, /etc/default/qkchat, the unit
        // and postinst send the admin to /usr/share/doc/qkchat/NAME, which must then be there.
        var entries = (await Run("dpkg-deb", "-c", package.Deb)).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[5][1..])
            .ToHashSet(StringComparer.Ordinal);
        string raw = PackageBuild.NewTempDir("deb-raw");
        try
        {
            await Run("dpkg-deb", "-R", package.Deb, raw);
            var references = PackageBuild.DocReferences(raw);
            Assert.Contains("packaging.md", references.Keys); // server.json's pointer for log files, at least
            Assert.All(references, r => Assert.True(entries.Contains("/usr/share/doc/qkchat/" + r.Key),
                $"/usr/share/doc/qkchat/{r.Key}, named in {string.Join(", ", r.Value)}, is not in the package"));
        }
        finally
        {
            Directory.Delete(raw, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Installs_into_a_throwaway_root_reruns_its_scripts_and_purges_only_its_own_files()
    {
        using var root = new ThrowawayRoot();
        string[] dpkg = ["--root=" + root.Path, "--force-script-chrootless", "--force-depends", "--log=/dev/null"];

        var install = await Run("dpkg", [.. dpkg, "-i", package.Deb]);
        Assert.Contains("installed, not started", install.Stdout);
        Assert.Equal("install ok installed", (await Run("dpkg-query", "--root=" + root.Path, "-W", "-f=${Status}", "qkchat")).Stdout);

        // Through the /usr/bin symlink, as the unit starts it.
        string qkchatd = root.At("/usr/bin/qkchatd");
        Assert.Equal("../lib/qkchat/qkchatd", new FileInfo(qkchatd).LinkTarget);
        Assert.StartsWith($"qkchatd {PackageBuild.Version}", (await Run(qkchatd, "--version")).Stdout);
        Assert.StartsWith($"qkchat {PackageBuild.Version}", (await Run(root.At("/usr/bin/qkchat"), "--version")).Stdout);   // the client
        Assert.DoesNotContain(".symtab", (await Run("readelf", "-S", root.At("/usr/lib/qkchat/qkchatd"))).Stdout); // stripped
        Assert.True(File.Exists(root.At("/usr/lib/qkchat/libsodium.so")));
        Assert.True(File.Exists(root.At("/etc/qkchat/server.json")));

        string user = Assert.Single(File.ReadAllLines(root.At("/etc/passwd")), l => l.StartsWith("qkchat:", StringComparison.Ordinal));
        Assert.EndsWith(":/var/lib/qkchat:/usr/sbin/nologin", user);
        foreach (string dir in new[] { "/var/lib/qkchat", "/var/lib/qkchat/mail", "/var/log/qkchat" })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
                File.GetUnixFileMode(root.At(dir)));

        // The maintainer scripts again: a reinstall (prerm upgrade, postinst configure <old>), then postinst by hand.
        await Run("dpkg", [.. dpkg, "-i", package.Deb]);
        var env = new Dictionary<string, string> { ["DPKG_ROOT"] = root.Path };
        await RunWith(env, root.At("/var/lib/dpkg/info/qkchat.postinst"), "configure", PackageBuild.Version);
        await RunWith(env, root.At("/var/lib/dpkg/info/qkchat.postinst"), "configure", PackageBuild.Version);
        Assert.Single(File.ReadAllLines(root.At("/etc/passwd")), l => l.StartsWith("qkchat:", StringComparison.Ordinal));

        // What qkchatd and the admin leave behind: purge takes the former and keeps the latter.
        File.WriteAllText(root.At("/var/log/qkchat/server-2026-01-01_000.log"), "log\n");
        File.WriteAllText(root.At("/var/lib/qkchat/mail/code.eml"), "mail\n");
        File.WriteAllText(root.At("/var/lib/qkchat/mail/.half.eml.tmp"), "mai");
        // The file store (files.dir): a stored content and a half-staged upload, as qkchatd lays them out (docs/files.md).
        Directory.CreateDirectory(root.At("/var/lib/qkchat/files/content/ab/cd"));
        File.WriteAllText(root.At("/var/lib/qkchat/files/content/ab/cd/abcd" + new string('0', 60) + "-5"), "bytes");
        Directory.CreateDirectory(root.At("/var/lib/qkchat/files/staging"));
        File.WriteAllText(root.At("/var/lib/qkchat/files/staging/42.part"), "by");
        File.WriteAllText(root.At("/etc/qkchat/db_password"), "secret\n");
        var purge = await Run("dpkg", [.. dpkg, "--purge", "qkchat"]);
        Assert.Contains("kept /etc/qkchat", purge.Stdout);
        Assert.Contains("user 'qkchat' is kept", purge.Stdout);
        var query = await ExternalProcess.RunAsync("dpkg-query", ["--root=" + root.Path, "-W", "-f=${db:Status-Status}", "qkchat"]);
        Assert.True(query.ExitCode == 1 || query.Stdout == "not-installed", $"after purge dpkg-query says: {query.Output}");

        Assert.Equal(["/etc/qkchat/db_password"], root.FilesBeyondTheSkeleton());
        File.Delete(root.At("/etc/qkchat/db_password"));
        Directory.Delete(root.At("/etc/qkchat"));
        Assert.Empty(root.FilesBeyondTheSkeleton());
    }

    private static Task<CommandResult> Run(string file, params string[] args) => RunWith(null, file, args);

    private static async Task<CommandResult> RunWith(Dictionary<string, string>? env, string file, params string[] args) =>
        (await ExternalProcess.RunAsync(file, args, env, Patience)).EnsureSuccess(file + " " + string.Join(' ', args));
}
