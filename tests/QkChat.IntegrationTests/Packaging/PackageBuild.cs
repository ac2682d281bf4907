using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Packaging;

/// <summary>
/// Builds a package with the same script `make deb` / `make tarball` runs, from the published AOT binaries the other
/// integration tests use, into a directory of its own (so it never touches dist/ or another test's output).
/// </summary>
internal static partial class PackageBuild
{
    /// <summary>Where the published qkchatd, qkchat-loadgen and qkchat are: next to QKCHAT_TEST_SERVER_BIN (make test sets it).</summary>
    public static string BinDir
    {
        get
        {
            string bin = Environment.GetEnvironmentVariable("QKCHAT_TEST_SERVER_BIN")
                ?? throw new InvalidOperationException("QKCHAT_TEST_SERVER_BIN is not set: packaging tests need the published AOT binaries (make test sets it)");
            if (!File.Exists(bin)) throw new InvalidOperationException($"{bin} does not exist: run `make publish` first");
            return Path.GetDirectoryName(Path.GetFullPath(bin))!;
        }
    }

    /// <summary>The one version, as Directory.Build.props states it.</summary>
    public static string Version { get; } =
        VersionPattern().Match(File.ReadAllText(Path.Combine(TestStack.RepoRoot, "Directory.Build.props"))).Groups[1].Value;

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex VersionPattern();

    public static async Task<string> RunAsync(string script, string outDir, string expectedFile)
    {
        var result = await ExternalProcess.RunAsync(Path.Combine(TestStack.RepoRoot, "scripts", script),
            ["--bin-dir", BinDir, "--out", outDir], timeout: TimeSpan.FromSeconds(60));
        result.EnsureSuccess(script);
        string path = Path.Combine(outDir, expectedFile);
        Assert.True(File.Exists(path), $"{script} did not write {path}:\n{result.Output}");
        return path;
    }

    /// <summary>
    /// The doc files that the text files under <paramref name="root"/> (config, unit, maintainer scripts, install.sh,
    /// the docs themselves) point to as ".../share/doc/qkchat/NAME", each with the files that name it. Binaries (ELF)
    /// are skipped. A sentence's closing period is not part of a name.
    /// </summary>
    public static SortedDictionary<string, SortedSet<string>> DocReferences(string root)
    {
        var references = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            if (new FileInfo(file).LinkTarget is not null) continue;
            byte[] bytes = File.ReadAllBytes(file);
            if (bytes.AsSpan().StartsWith("\u007FELF"u8)) continue;
            foreach (Match m in DocReference().Matches(System.Text.Encoding.UTF8.GetString(bytes)))
            {
                string name = m.Groups[1].Value;
                if (!references.TryGetValue(name, out var from)) references[name] = from = new SortedSet<string>(StringComparer.Ordinal);
                from.Add(Path.GetRelativePath(root, file));
            }
        }
        return references;
    }

    [GeneratedRegex(@"share/doc/qkchat/([\w.-]*\w)")]
    private static partial Regex DocReference();

    public static string NewTempDir(string purpose)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"qkchat-{purpose}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>The .deb, built once for a test class and deleted with its directory afterwards.</summary>
public sealed class DebFixture : IAsyncLifetime
{
    public string Dir { get; } = PackageBuild.NewTempDir("deb");
    public string Deb { get; private set; } = "";

    public async ValueTask InitializeAsync() =>
        Deb = await PackageBuild.RunAsync("package-deb.sh", Dir, $"qkchat_{PackageBuild.Version}_amd64.deb");

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Dir, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The tarball, built once for a test class and deleted with its directory afterwards.</summary>
public sealed class TarballFixture : IAsyncLifetime
{
    public string Dir { get; } = PackageBuild.NewTempDir("tarball");
    public string Tarball { get; private set; } = "";
    public string Name => $"qkchat-{PackageBuild.Version}-linux-x64";

    public async ValueTask InitializeAsync() =>
        Tarball = await PackageBuild.RunAsync("package-tarball.sh", Dir, Name + ".tar.gz");

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Dir, recursive: true);
        return ValueTask.CompletedTask;
    }
}
