using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// failure-modes.md: "Real database and SMTP passwords committed to the repository." Reads what git tracks (not the
/// working tree: .run/ holds the private stack's generated password and is ignored) and fails naming any file that
/// looks like a secret by its name or holds a private key. Test certificates are made at run time, never committed.
/// </summary>
public sealed partial class NoSecretsCommittedTests
{
    // Key and credential stores by extension, SSH keys, dotenv files, and files named after a password/secret/token
    // (source and docs about passwords, like PasswordWorkPool.cs or passwords.md, are left out by extension below).
    [GeneratedRegex(@"(\.(pem|key|pfx|p12|jks|keystore|ppk)$)|(^|/)id_(rsa|dsa|ecdsa|ed25519)$|(^|/)\.env(\.|$)|(^|/)[^/]*(password|passwd|secret|credential|token)[^/]*$",
        RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----")]
    private static partial Regex PrivateKeyHeader();

    [Fact]
    public void No_tracked_file_is_a_private_key_or_a_password_or_secret_file()
    {
        var files = TrackedFiles();
        Assert.True(files.Count > 100, $"git ls-files listed only {files.Count} files: not the checkout?");
        var offenders = new List<string>();
        foreach (string file in files)
        {
            string code = Path.GetExtension(file);
            if (SecretName().IsMatch(file) && code is not (".cs" or ".md" or ".sh")) offenders.Add(file + " (name)");
            string path = Path.Combine(RepoPaths.Root, file);
            if (!File.Exists(path) || new FileInfo(path).Length > 4 << 20) continue; // deleted in the work tree, or big data
            if (PrivateKeyHeader().IsMatch(File.ReadAllText(path)) && file != "tests/QkChat.Tests/Architecture/NoSecretsCommittedTests.cs")
                offenders.Add(file + " (private key)");
        }
        Assert.True(offenders.Count == 0, "secrets committed: " + string.Join(", ", offenders));
    }

    [Fact]
    public void The_scan_finds_a_private_key_header_and_a_password_file_name()
    {
        // The patterns themselves, so a typo cannot make the scan above pass vacuously.
        Assert.Matches(PrivateKeyHeader(), "-----BEGIN RSA PRIVATE KEY-----");
        Assert.Matches(PrivateKeyHeader(), "-----BEGIN OPENSSH PRIVATE KEY-----");
        Assert.Matches(PrivateKeyHeader(), "-----BEGIN PRIVATE KEY-----");
        Assert.DoesNotMatch(PrivateKeyHeader(), "-----BEGIN CERTIFICATE-----");
        foreach (string name in new[] { "config/db_password", "smtp-secret.txt", "deploy/server.key", "certs/chat.pfx", ".env", "x/id_ed25519" })
            Assert.Matches(SecretName(), name);
        Assert.DoesNotMatch(SecretName(), "docs/accounts.md");
    }

    private static List<string> TrackedFiles()
    {
        var start = new ProcessStartInfo("git", ["-C", RepoPaths.Root, "ls-files", "-z"]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var git = Process.Start(start)!;
        string output = git.StandardOutput.ReadToEnd();
        Assert.True(git.WaitForExit(60_000), "git ls-files did not finish");
        Assert.Equal(0, git.ExitCode);
        return [.. output.Split('\0', StringSplitOptions.RemoveEmptyEntries)];
    }
}
