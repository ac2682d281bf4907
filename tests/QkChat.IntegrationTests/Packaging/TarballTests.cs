using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Packaging;

/// <summary>
/// The tarball from scripts/package-tarball.sh: what it holds, that the qkchatd inside serves chat straight from the
/// unpacked tree with its own server.json, and that install.sh installs under a prefix without touching edits.
/// </summary>
public sealed class TarballTests(TarballFixture package) : IClassFixture<TarballFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Holds_the_binaries_config_unit_migrations_docs_and_install_sh()
    {
        var entries = (await Run("tar", "-tzvf", package.Tarball)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[^1], f => (Mode: f[0], Owner: f[1]));
        string n = package.Name;
        Assert.All(entries, e => Assert.StartsWith(n + "/", e.Key));
        Assert.All(entries, e => Assert.Equal("0/0", e.Value.Owner));
        foreach (string exe in new[] { "bin/qkchatd", "bin/qkchat-loadgen", "install.sh" })
            Assert.Equal("-rwxr-xr-x", entries[$"{n}/{exe}"].Mode);
        foreach (string file in new[] { "etc/qkchat/server.json", "etc/default/qkchat", "lib/systemd/system/qkchat.service",
                     "share/qkchat/sql/0001_init.sql", "share/doc/qkchat/tuning.md", "share/doc/qkchat/packaging.md" })
            Assert.Equal("-rw-r--r--", entries[$"{n}/{file}"].Mode);
        Assert.DoesNotContain(entries.Keys, p => p.EndsWith(".dbg", StringComparison.Ordinal) || p.EndsWith(".pdb", StringComparison.Ordinal));
    }

    [Fact]
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
            }
            server.Signal(ServerProcess.SIGTERM);
            Assert.Equal(0, await server.WaitForExitAsync(Patience));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
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
            Assert.True(File.Exists(dest + "/opt/qkchat/bin/qkchat-loadgen"));
            Assert.True(File.Exists(dest + "/opt/qkchat/share/qkchat/sql/0001_init.sql"));
            Assert.True(File.Exists(dest + "/opt/qkchat/share/doc/qkchat/tuning.md"));
            Assert.True(File.Exists(dest + "/etc/default/qkchat"));
            string unit = File.ReadAllText(dest + "/etc/systemd/system/qkchat.service");
            Assert.Contains("ExecStart=/opt/qkchat/bin/qkchatd run --config /etc/qkchat/server.json\n", unit);
            Assert.Contains("ExecStartPre=/opt/qkchat/bin/qkchatd migrate --config /etc/qkchat/server.json\n", unit);
            Assert.DoesNotContain("/usr/bin/qkchatd", unit);

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
            Assert.False(Directory.Exists(dest + "/opt/qkchat/share/qkchat"));
            Assert.False(File.Exists(dest + "/etc/systemd/system/qkchat.service"));
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
