using QkChat.Server.Configuration;
using QkChat.Server.Hosting;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class CommandLineTests
{
    [Fact]
    public void Parses_command_config_and_overrides_in_both_forms()
    {
        var line = CommandLine.Parse(["migrate", "--config", "a.json", "--server.port=9000", "--log.level", "debug"]);
        Assert.Equal("migrate", line.Command);
        Assert.Equal("a.json", line.ConfigPath);
        Assert.Equal([new("server.port", "9000"), new("log.level", "debug")], line.Overrides);
    }

    [Theory]
    [InlineData("--version", "version")]
    [InlineData("-V", "version")]
    [InlineData("--help", "help")]
    [InlineData("-h", "help")]
    public void Version_and_help_win_wherever_they_appear(string flag, string command) =>
        Assert.Equal(command, CommandLine.Parse(["--server.port=1", flag]).Command);

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("--no-such-key=1")]
    [InlineData("--server.port")]
    public void Unknown_commands_options_and_missing_values_are_errors(string arg) =>
        Assert.Throws<ConfigException>(() => CommandLine.Parse([arg]));
}
