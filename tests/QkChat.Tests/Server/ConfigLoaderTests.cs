using System.Collections;
using QkChat.Server.Configuration;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkchat-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ServerOptions Load(IDictionary env, string? path = null, params (string, string)[] cli) =>
        ConfigLoader.Load(path, cli.Select(c => new KeyValuePair<string, string>(c.Item1, c.Item2)).ToList(), env);

    private string WriteFile(string json)
    {
        string path = Path.Combine(_dir, "server.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Defaults_are_valid_and_match_the_protocol()
    {
        var o = Load(new Hashtable());
        Assert.Equal(8080, o.Transport.Port);
        Assert.Equal(65_536, o.Transport.MaxFrameBytes);
        Assert.Equal(10_000, o.Transport.MaxClients);
        Assert.Equal(1_000, o.Transport.MaxClientsPerIp);
        Assert.Equal(30, o.Chat.LoginTimeout.TotalSeconds);
        Assert.Equal(60, o.Chat.IdleTimeout.TotalSeconds);
        Assert.Equal(8443, o.Tls.Port);
    }

    [Theory]
    [InlineData("QKCHAT_PORT", "abc", "server.port", "an integer from 1 to 65535")]
    [InlineData("QKCHAT_PORT", "70000", "server.port", "an integer from 1 to 65535")]
    [InlineData("QKCHAT_MAX_CLIENTS", "-5", "server.max_clients", "an integer from 1")]
    [InlineData("QKCHAT_PIN_REACTORS", "maybe", "server.pin_reactors", "true or false")]
    [InlineData("QKCHAT_LOG_LEVEL", "loud", "log.level", "one of trace, debug")]
    [InlineData("QKCHAT_DB_HOST", " ", "db.host", "a non-empty string")]
    public void A_bad_environment_value_names_key_value_source_and_what_is_allowed(string env, string value, string key, string allowed)
    {
        var e = Assert.Throws<ConfigException>(() => Load(new Hashtable { [env] = value }));
        Assert.Contains(key, e.Message);
        Assert.Contains($"'{value}'", e.Message);
        Assert.Contains(env, e.Message);
        Assert.Contains(allowed, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_bad_file_value_and_an_unknown_file_key_are_rejected_with_the_key()
    {
        string path = WriteFile("""{ "server": { "port": 0 } }""");
        var e = Assert.Throws<ConfigException>(() => Load(new Hashtable(), path));
        Assert.Contains("server.port", e.Message);
        Assert.Contains(path, e.Message);

        path = WriteFile("""{ "server": { "prot": 9000 } }""");
        e = Assert.Throws<ConfigException>(() => Load(new Hashtable(), path));
        Assert.Contains("unknown key 'server.prot'", e.Message);
    }

    [Fact]
    public void Malformed_json_and_a_missing_explicit_file_are_clear_errors()
    {
        string path = WriteFile("{ \"server\": ");
        Assert.Contains("cannot be read", Assert.Throws<ConfigException>(() => Load(new Hashtable(), path)).Message);
        Assert.Contains("does not exist", Assert.Throws<ConfigException>(() => Load(new Hashtable(), Path.Combine(_dir, "nope.json"))).Message);
        Assert.Contains("does not exist", Assert.Throws<ConfigException>(
            () => Load(new Hashtable { ["QKCHAT_CONFIG_PATH"] = Path.Combine(_dir, "nope.json") })).Message);
    }

    [Fact]
    public void Precedence_is_defaults_then_file_then_environment_then_command_line()
    {
        string path = WriteFile("""{ "server": { "port": 9001, "max_clients": 500 }, "log": { "level": "debug" } }""");
        var o = Load(new Hashtable { ["QKCHAT_PORT"] = "9002", ["QKCHAT_LOG_LEVEL"] = "warning" }, path, ("log.level", "error"));
        Assert.Equal(9002, o.Transport.Port);          // env beats file
        Assert.Equal(500, o.Transport.MaxClients);     // file beats default
        Assert.Equal("error", o.Log.Level);   // command line beats env
    }

    [Fact]
    public void Secrets_come_from_files_and_never_appear_in_the_summary_or_errors()
    {
        string secret = Path.Combine(_dir, "db_password");
        File.WriteAllText(secret, "s3cret-value\n");
        var o = Load(new Hashtable { ["QKCHAT_DB_PASSWORD_FILE"] = secret });
        Assert.Equal("s3cret-value", o.Database.Password);
        Assert.DoesNotContain("s3cret-value", ConfigDocs.Summary(o));
        Assert.Contains("db.password=***", ConfigDocs.Summary(o));

        string path = WriteFile($$"""{ "smtp": { "password_file": "{{secret}}" } }""");
        Assert.Equal("s3cret-value", Load(new Hashtable(), path).MailTransport.Password);

        var e = Assert.Throws<ConfigException>(() => Load(new Hashtable { ["QKCHAT_DB_PASSWORD"] = new string('x', 5000) }));
        Assert.DoesNotContain("xxxx", e.Message);
        Assert.Contains("db.password", e.Message);
    }

    [Fact]
    public void Inconsistent_send_queue_marks_and_tls_without_files_are_rejected()
    {
        var e = Assert.Throws<ConfigException>(() => Load(new Hashtable
        {
            ["QKCHAT_SEND_QUEUE_LOW_BYTES"] = "300000",
            ["QKCHAT_SEND_QUEUE_HIGH_BYTES"] = "200000",
        }));
        Assert.Contains("server.send_queue_low_bytes", e.Message);

        e = Assert.Throws<ConfigException>(() => Load(new Hashtable { ["QKCHAT_TLS_ENABLED"] = "true" }));
        Assert.Contains("tls.cert_file", e.Message);
    }

    [Fact]
    public void Documentation_lists_every_key_and_variable()
    {
        string doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "configuration.md"));
        foreach (var spec in OptionRegistry.All)
        {
            Assert.Contains($"`{spec.Key}`", doc);
            Assert.Contains($"`{spec.Env}`", doc);
        }
        Assert.Contains(ConfigDocs.MarkdownTable().Trim(), doc);
    }
}
