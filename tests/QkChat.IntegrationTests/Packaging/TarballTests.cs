using System.Runtime.Versioning;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Packaging;

/// <summary>
/// The tarball from scripts/package-tarball.sh: what it holds, that the qkchatd inside serves chat (and hashes with the
/// libsodium.so beside it) straight from the unpacked tree with its own server.json, and that install.sh installs
/// under a prefix without touching edits.
/// </summary>
[SupportedOSPlatform("linux")] // symlinks and Unix file modes
public sealed class TarballTests(TarballFixture package) : IClassFixture<TarballFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task Holds_the_binaries_config_unit_migrations_docs_and_install_sh()
    {
        // "-rwxr-xr-x 0/0 12971680 2026-11-25 05:47 NAME" or "lrwxrwxrwx 0/0 0 2026-11-25 05:47 NAME -> TARGET"
        var entries = (await Run("tar", "-tzvf", package.Tarball)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[5], f => (Mode: f[0], Owner: f[1], Target: f.Length > 7 && f[6] == "->" ? f[7] : ""));
        string n = package.Name;
        Assert.All(entries, e => Assert.StartsWith(n + "/", e.Key));
        Assert.All(entries, e => Assert.Equal("0/0", e.Value.Owner));
        foreach (string exe in new[] { "lib/qkchat/qkchatd", "lib/qkchat/qkchat-loadgen", "lib/qkchat/qkchat", "install.sh" })
            Assert.Equal("-rwxr-xr-x", entries[$"{n}/{exe}"].Mode);
        // Relative, so the unpacked tree (and an install.sh prefix) can live anywhere.
        foreach (string program in new[] { "qkchatd", "qkchat-loadgen", "qkchat" })
        {
            Assert.Equal("lrwxrwxrwx", entries[$"{n}/bin/{program}"].Mode);
            Assert.Equal("../lib/qkchat/" + program, entries[$"{n}/bin/{program}"].Target);
        }
        foreach (string file in new[] { "lib/qkchat/libsodium.so", "etc/qkchat/server.json", "etc/default/qkchat", "lib/systemd/system/qkchat.service", "lib/systemd/system/qkchat@.service", "share/doc/qkchat/cluster.md",
                     "share/qkchat/sql/0001_init.sql", "share/doc/qkchat/tuning.md", "share/doc/qkchat/packaging.md" })
            Assert.Equal("-rw-r--r--", entries[$"{n}/{file}"].Mode);
        Assert.DoesNotContain(entries.Keys, p => p.EndsWith(".dbg", StringComparison.Ordinal) || p.EndsWith(".pdb", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_doc_its_files_point_to_is_in_the_tarball()
    {
        // server.json, etc/default/qkchat, the unit and install.sh name .../share/doc/qkchat/NAME (install.sh rewrites
        // /usr to its prefix): every NAME must be shipped in share/doc/qkchat.
        string dir = await UnpackAsync();
        try
        {
            string tree = Path.Combine(dir, package.Name);
            var references = PackageBuild.DocReferences(tree);
            Assert.Contains("packaging.md", references.Keys);
            Assert.All(references, r => Assert.True(File.Exists(Path.Combine(tree, "share/doc/qkchat", r.Key)),
                $"share/doc/qkchat/{r.Key}, named in {string.Join(", ", r.Value)}, is not in the tarball"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Its_qkchatd_serves_chat_from_the_unpacked_tree()
    {
        string dir = await UnpackAsync();
        try
        {
            await using var db = await TempDatabase.CreateAsync();
            int port = ServerProcess.FreePort();
            var env = ServerProcess.StackEnvironment(db.Name, port);
            // The shipped server.json (loopback, /var paths), with the test stack's backends and a writable mail dir.
            env["QKCHAT_CONFIG_PATH"] = Path.Combine(dir, package.Name, "etc/qkchat/server.json");
            env["QKCHAT_MAIL_DIR"] = Path.Combine(dir, "mail");
            env["QKCHAT_DB_AUTO_MIGRATE"] = "true";

            // Through bin/qkchatd, the relative symlink: qkchatd finds lib/qkchat through /proc/self/exe.
            await using var server = ExternalProcess.Start(Path.Combine(dir, package.Name, "bin/qkchatd"), [], env);
            await server.WaitForOutputAsync("ready: serving chat", Patience);
            Assert.Contains($"qkchatd {PackageBuild.Version}", server.Output);
            Assert.Contains("server.json", server.Output);

            using (var client = await RawClient.ConnectAsync(port))
            {
                await client.SendAsync(RawClient.Heartbeat("tarball"));
                var response = await client.ReadAsync();
                Assert.Equal("OK", response.Str("code"));
                Assert.Equal("tarball", response.Str("request_id"));

                // An unknown user still costs one Argon2id verification (of a dummy hash) through libsodium.so,
                // which qkchatd loads from lib/qkchat beside its real file: without it the answer is INTERNAL.
                await client.SendJsonAsync("""{"action":"login","request_id":"x","username":"nobody_here","password":"whatever123","client_id":"t"}""");
                var login = await client.ReadAsync(Patience);
                Assert.Equal("x", login.Str("request_id"));
                Assert.Equal("INVALID_CREDENTIALS", login.Str("code"));
            }
            server.Signal(ServerProcess.SIGTERM);
            Assert.Equal(0, await server.WaitForExitAsync(Patience));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Install_sh_installs_under_a_prefix_keeps_edited_config_and_uninstalls()
    {
        string dir = await UnpackAsync();
        try
        {
            string installSh = Path.Combine(dir, package.Name, "install.sh");
            string dest = Path.Combine(dir, "dest");
            string[] args = ["--destdir", dest, "--prefix", "/opt/qkchat"];
            Assert.Contains("--prefix DIR", (await Run(installSh, "--help")).Stdout);

            var first = await Run(installSh, args);
            Assert.Contains("systemctl enable --now qkchat", first.Stdout);
            Assert.StartsWith($"qkchatd {PackageBuild.Version}", (await Run(dest + "/opt/qkchat/bin/qkchatd", "--version")).Stdout);
            foreach (string program in new[] { "qkchatd", "qkchat-loadgen", "qkchat" })
            {
                Assert.Equal("../lib/qkchat/" + program, new FileInfo(dest + "/opt/qkchat/bin/" + program).LinkTarget);
                Assert.Equal(UnixFileMode.UserExecute, File.GetUnixFileMode(dest + "/opt/qkchat/lib/qkchat/" + program) & UnixFileMode.UserExecute);
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                File.GetUnixFileMode(dest + "/opt/qkchat/lib/qkchat/libsodium.so"));
            Assert.True(File.Exists(dest + "/opt/qkchat/share/qkchat/sql/0001_init.sql"));
            Assert.True(File.Exists(dest + "/opt/qkchat/share/doc/qkchat/tuning.md"));
            Assert.True(File.Exists(dest + "/etc/default/qkchat"));
            string unit = File.ReadAllText(dest + "/etc/systemd/system/qkchat.service");
            Assert.Contains("ExecStart=/opt/qkchat/bin/qkchatd run --config /etc/qkchat/server.json\n", unit);
            Assert.Contains("ExecStartPre=/opt/qkchat/bin/qkchatd migrate --config /etc/qkchat/server.json\n", unit);
            Assert.DoesNotContain("/usr/bin/qkchatd", unit);
            string nodeUnit = File.ReadAllText(dest + "/etc/systemd/system/qkchat@.service");
            Assert.Contains("ExecStart=/opt/qkchat/bin/qkchatd run --config /etc/qkchat/server.json\n", nodeUnit);
            Assert.Contains("EnvironmentFile=/etc/qkchat/node-%i.env\n", nodeUnit);
            Assert.DoesNotContain("/usr/bin/qkchatd", nodeUnit);

            // Again: nothing changes, nothing is set beside the config.
            var second = await Run(installSh, args);
            Assert.DoesNotContain("kept your", second.Stdout);
            Assert.False(File.Exists(dest + "/etc/qkchat/server.json.new"));

            // An admin's edit survives; the shipped version lands beside it.
            string config = dest + "/etc/qkchat/server.json";
            File.WriteAllText(config, """{ "server": { "host": "0.0.0.0" } }""");
            Assert.Contains("kept your", (await Run(installSh, args)).Stdout);
            Assert.Contains("0.0.0.0", File.ReadAllText(config));
            Assert.True(File.Exists(config + ".new"));

            await Run(installSh, ["--uninstall", .. args]);
            Assert.False(File.Exists(dest + "/opt/qkchat/bin/qkchatd"));
            Assert.Null(new FileInfo(dest + "/opt/qkchat/bin/qkchatd").LinkTarget); // not even a dangling symlink
            Assert.Null(new FileInfo(dest + "/opt/qkchat/bin/qkchat").LinkTarget);
            Assert.False(Directory.Exists(dest + "/opt/qkchat/lib/qkchat"));
            Assert.False(Directory.Exists(dest + "/opt/qkchat/share/qkchat"));
            Assert.False(File.Exists(dest + "/etc/systemd/system/qkchat.service"));
            Assert.False(File.Exists(dest + "/etc/systemd/system/qkchat@.service"));
            Assert.True(File.Exists(config), "uninstall keeps the configuration");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task<string> UnpackAsync()
    {
        string dir = PackageBuild.NewTempDir("unpacked");
        await Run("tar", "-xzf", package.Tarball, "-C", dir);
        return dir;
    }

    private static async Task<CommandResult> Run(string file, params string[] args) =>
        (await ExternalProcess.RunAsync(file, args, timeout: Patience)).EnsureSuccess(file + " " + string.Join(' ', args));
}
