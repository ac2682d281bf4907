using QkChat.Server.Audit;
using QkChat.Server.Configuration;
using QkChat.Server.Hosting;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class AuditCommandTests
{
    [Fact]
    public void The_audit_command_takes_its_own_options_and_the_json_flag()
    {
        var line = CommandLine.Parse(["audit", "--user", "123456789", "--since=2025-01-31T08:00:00Z", "--limit", "5", "--json"]);
        Assert.Equal("audit", line.Command);
        Assert.Contains("json", line.Flags);
        var query = AuditCommand.ParseQuery(line.CommandOptions);
        Assert.Equal(123_456_789u, query.UserId);
        Assert.Equal(DateTimeOffset.Parse("2025-01-31T08:00:00Z").ToUnixTimeMilliseconds(), query.SinceMs);
        Assert.Equal(5, query.Limit);
        Assert.Throws<ConfigException>(() => CommandLine.Parse(["run", "--user", "123456789"]));
        Assert.Throws<ConfigException>(() => CommandLine.Parse(["--json"]));
    }

    [Theory]
    [InlineData("--user", "12", "--user")]
    [InlineData("--ip", "not-an-ip", "--ip")]
    [InlineData("--since", "yesterday", "--since")]
    [InlineData("--limit", "0", "--limit")]
    public void Bad_values_name_the_option(string option, string value, string named)
    {
        var line = CommandLine.Parse(["audit", "--user", "123456789", option, value]);
        var e = Assert.Throws<ConfigException>(() => AuditCommand.ParseQuery(line.CommandOptions));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void A_user_or_an_address_is_required_and_times_read_both_forms()
    {
        Assert.Throws<ConfigException>(() => AuditCommand.ParseQuery(new Dictionary<string, string>()));
        Assert.Equal("::1", AuditCommand.ParseQuery(new Dictionary<string, string> { ["ip"] = "::1" }).Ip);
        Assert.Equal("10.0.0.1", AuditCommand.ParseQuery(new Dictionary<string, string> { ["ip"] = "::ffff:10.0.0.1" }).Ip);
        Assert.Equal(1_700_000_000_000, AuditCommand.ParseTime("1700000000000"));
        Assert.Equal(0, AuditCommand.ParseTime("1970-01-01T00:00:00Z"));
        Assert.Equal(3_600_000, AuditCommand.ParseTime("1970-01-01T02:00:00+01:00"));
        Assert.Null(AuditCommand.ParseTime("soon"));
    }

    [Fact]
    public void The_table_and_json_show_every_column()
    {
        var rows = new[] { new AuditEntry(7, 0, "login_failed", null, "phone", null, "10.0.0.1", false, "unknown_user") };
        string table = AuditCommand.Table(rows);
        Assert.Contains("event_id", table);
        Assert.Contains("1970-01-01T00:00:00.000Z", table);
        Assert.Contains("unknown_user", table);
        Assert.Contains("(1 event, newest first)", table);
        var json = System.Text.Json.JsonDocument.Parse(AuditCommand.Json(rows)).RootElement[0];
        Assert.Equal("failed", json.GetProperty("outcome").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("user_id").ValueKind);
    }
}
