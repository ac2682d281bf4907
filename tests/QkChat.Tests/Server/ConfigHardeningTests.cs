using System.Collections;
using System.Text.RegularExpressions;
using QkChat.Server.Configuration;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>issue 16: unknown settings named with the closest known one, TLS-only listening, and the admin exposure rule.</summary>
public sealed class ConfigHardeningTests
{
    private static ServerOptions Load(Hashtable env) => ConfigLoader.Load(null, [], env);

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("abc", "", 3)]
    [InlineData("port", "port", 0)]
    [InlineData("prot", "port", 1)]        // a swap of two neighbours is one step
    [InlineData("kitten", "sitting", 3)]
    [InlineData("QKCHAT_MAX_CLIENT", "QKCHAT_MAX_CLIENTS", 1)]
    [InlineData("ca", "abc", 3)]           // optimal string alignment: no edit of a swapped pair twice
    public void Edit_distance_counts_insertions_deletions_substitutions_and_swaps(string a, string b, int expected)
    {
        Assert.Equal(expected, UnknownSettings.EditDistance(a, b));
        Assert.Equal(expected, UnknownSettings.EditDistance(b, a));
    }

    [Theory]
    [InlineData("QKCHAT_MAIL_DROP_DIR", "QKCHAT_MAIL_DIR (mail.drop_dir)")]   // the key spelled as a variable
    [InlineData("QKCHAT_MAX_CLIENT", "QKCHAT_MAX_CLIENTS (server.max_clients)")]
    [InlineData("QKCHAT_DB_PASWORD_FILE", "QKCHAT_DB_PASSWORD_FILE (db.password)")]
    [InlineData("QKCHAT_TLS_ENABLE", "QKCHAT_TLS_ENABLED (tls.enabled)")]
    public void The_closest_variable_is_named_with_its_key(string variable, string closest) =>
        Assert.Equal(closest, UnknownSettings.ClosestVariable(variable));

    [Theory]
    [InlineData("server.prot", "server.port")]
    [InlineData("mail.drop_directory", "mail.drop_dir")]
    [InlineData("DB.Pasword_File", "db.password_file")]
    public void The_closest_key_is_found_without_regard_to_case(string key, string closest) =>
        Assert.Equal(closest, UnknownSettings.ClosestKey(key));

    [Fact]
    public void Only_unknown_qkchat_variables_are_reported_and_sorted()
    {
        var env = new Hashtable
        {
            ["QKCHAT_PORT"] = "9000",
            ["QKCHAT_DB_PASSWORD_FILE"] = "/dev/null",
            ["QKCHAT_CONFIG_PATH"] = "x.json",
            ["QKCHAT_TEST_SERVER_BIN"] = "x",
            ["QKCHAT_STACK_DB_PORT"] = "13306",
            ["QKCHAT_DEB_MAINTAINER"] = "x",
            ["QKCHAT_HASH_SAMPLES"] = "3",
            ["qkchat_port"] = "1",                 // not ours: Linux names are case-sensitive
            ["PATH"] = "/usr/bin",
            ["QKCHAT_PROT"] = "1",
            ["QKCHAT_MAIL_DROP_DIR"] = "/tmp",
        };
        var unknown = UnknownSettings.InEnvironment(env);
        Assert.Equal(["QKCHAT_MAIL_DROP_DIR", "QKCHAT_PROT"], unknown.Select(u => u.Name));
        Assert.Equal("QKCHAT_PORT (server.port)", unknown[1].Closest);
        Assert.Contains("did you mean QKCHAT_MAIL_DIR (mail.drop_dir)?", unknown[0].Message);
    }

    [Fact]
    public void A_known_non_option_is_never_a_setting()
    {
        foreach (var (name, _, reason) in UnknownSettings.KnownNonOptions)
        {
            Assert.NotEqual("", reason);
            Assert.DoesNotContain(OptionRegistry.All, s => s.Env.StartsWith(name, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// Every QKCHAT_* name the scripts and packaging use, and every one the code reads with GetEnvironmentVariable,
    /// is a setting or on the known list: a new script variable cannot make every start warn.
    /// </summary>
    [Fact]
    public void Every_qkchat_variable_the_repository_uses_is_known()
    {
        var files = new[] { "scripts", "packaging" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, d), "*", SearchOption.AllDirectories))
            .Append(Path.Combine(RepoPaths.Root, "Makefile"));
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
            foreach (Match m in Regex.Matches(File.ReadAllText(file), "QKCHAT_[A-Z0-9_]+"))
                names.Add(m.Value);
        foreach (string dir in new[] { "src", "tests", "bench" })
            foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, dir), "*.cs", SearchOption.AllDirectories))
                foreach (Match m in Regex.Matches(File.ReadAllText(file), "GetEnvironmentVariable\\(\"(QKCHAT_[A-Z0-9_]+)\""))
                    names.Add(m.Groups[1].Value);
        Assert.Contains("QKCHAT_TEST_SERVER_BIN", names);
        // A name ending in '_' is a prefix in prose ("QKCHAT_STACK_*_PORT"), not a variable.
        Assert.DoesNotContain(names, n => !n.EndsWith('_') && !UnknownSettings.IsKnown(n));
    }

    [Fact]
    public void An_unknown_file_key_names_the_closest_setting()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("qkchat-config-").FullName, "server.json");
        File.WriteAllText(path, """{ "server": { "prot": 9000 } }""");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, [], new Hashtable()));
        Assert.Contains("unknown key 'server.prot'", e.Message);
        Assert.Contains("did you mean server.port?", e.Message);
    }

    [Fact]
    public void The_plain_listener_may_be_off_only_with_tls()
    {
        Assert.True(Load(new Hashtable()).Transport.PlainListener);
        var e = Assert.Throws<ConfigException>(() => Load(new Hashtable { ["QKCHAT_PLAIN_TCP"] = "false" }));
        Assert.Contains("server.plain_tcp", e.Message);
        Assert.Contains("tls.enabled", e.Message);
    }

    [Theory]
    [InlineData("0.0.0.0", "", false, true)]
    [InlineData("192.0.2.10", "", false, true)]
    [InlineData("::", "", false, true)]
    [InlineData("0.0.0.0", "t0ken", false, false)]
    [InlineData("0.0.0.0", "", true, false)]     // admin.enabled=false: no listener, nothing exposed
    [InlineData("127.0.0.1", "", false, false)]
    [InlineData("127.0.0.2", "", false, false)]
    [InlineData("::1", "", false, false)]
    public void An_admin_listener_off_loopback_needs_a_token(string host, string token, bool disabled, bool refused)
    {
        var env = new Hashtable { ["QKCHAT_ADMIN_HOST"] = host, ["QKCHAT_ADMIN_TOKEN"] = token };
        if (disabled) env["QKCHAT_ADMIN_ENABLED"] = "false";
        if (!refused)
        {
            Load(env);
            return;
        }
        var e = Assert.Throws<ConfigException>(() => Load(env));
        Assert.Contains("admin.host", e.Message);
        Assert.Contains("admin.token", e.Message);
    }

    [Fact]
    public void An_admin_host_that_is_no_address_is_a_clear_error()
    {
        var e = Assert.Throws<ConfigException>(() => Load(new Hashtable { ["QKCHAT_ADMIN_HOST"] = "localhost" }));
        Assert.Contains("admin.host = 'localhost'", e.Message);
    }
}
