using QkChat.Cli;
using Xunit;

namespace QkChat.Tests.Cli;

public sealed class CliArgumentsTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Defaults_to_the_plain_port_on_loopback()
    {
        Assert.Equal(new CliArguments("127.0.0.1", 8080, false, false), CliArguments.Parse([], NoEnvironment));
        Assert.Equal(8443, CliArguments.Parse(["--tls"], NoEnvironment).Port);
    }

    [Fact]
    public void Options_beat_the_environment_which_beats_the_defaults()
    {
        var env = new Dictionary<string, string> { ["QKCHAT_HOST"] = "chat.example.org", ["QKCHAT_PORT"] = "9000" };
        Func<string, string?> lookup = k => env.GetValueOrDefault(k);
        Assert.Equal(("chat.example.org", 9000), Pick(CliArguments.Parse([], lookup)));
        Assert.Equal(("10.0.0.1", 9001), Pick(CliArguments.Parse(["--host", "10.0.0.1", "--port=9001"], lookup)));
        Assert.Equal(new CliArguments("h", 1, true, true), CliArguments.Parse(["--host=h", "--port", "1", "--tls", "--insecure"], NoEnvironment));

        static (string, int) Pick(CliArguments a) => (a.Host, a.Port);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help(string arg) => Assert.True(CliArguments.Parse([arg, "--bogus"], NoEnvironment).Help);

    [Fact]
    public void Version_names_the_program() =>
        Assert.StartsWith("qkchat 0.", CliArguments.VersionText);

    [Theory]
    [InlineData("unknown argument '--colour'", "--colour")]
    [InlineData("--port needs a value", "--port")]
    [InlineData("the port must be a number from 1 to 65535, not '70000'", "--port", "70000")]
    [InlineData("the port must be a number from 1 to 65535, not 'http'", "--port=http")]
    [InlineData("--insecure only makes sense with --tls", "--insecure")]
    [InlineData("'http://h:1/ws' is not a ws:// or wss:// address (for example ws://127.0.0.1:8081/ws)", "--url", "http://h:1/ws")]
    [InlineData("a ws:// or wss:// address already names the host, the port and TLS: leave out --host, --port and --tls", "--tls", "wss://h/ws")]
    [InlineData("a ws:// or wss:// address already names the host, the port and TLS: leave out --host, --port and --tls", "ws://h/ws", "--port", "1")]
    [InlineData("--insecure only makes sense with --tls or wss://", "--insecure", "ws://h:8081/ws")]
    public void Bad_arguments_are_refused(string message, params string[] args) =>
        Assert.Equal(message, Assert.Throws<UsageException>(() => CliArguments.Parse(args, NoEnvironment)).Message);

    [Fact]
    public void A_ws_or_wss_url_connects_through_the_websocket_gateway()
    {
        var plain = CliArguments.Parse(["ws://chat.example.org:8081/ws"], NoEnvironment);
        Assert.Equal(new Uri("ws://chat.example.org:8081/ws"), plain.WebSocketUrl);
        Assert.Equal(("chat.example.org", 8081, false), (plain.Host, plain.Port, plain.Tls));

        var secure = CliArguments.Parse(["--insecure", "--url=wss://chat.example.org/ws"], NoEnvironment);
        Assert.Equal(("chat.example.org", 443, true, true), (secure.Host, secure.Port, secure.Tls, secure.Insecure));

        // $QKCHAT_URL when no address is given on the command line; --host/--port beat it.
        Func<string, string?> env = k => k == "QKCHAT_URL" ? "ws://10.0.0.2:8081/ws" : null;
        Assert.Equal(new Uri("ws://10.0.0.2:8081/ws"), CliArguments.Parse([], env).WebSocketUrl);
        Assert.Null(CliArguments.Parse(["--host", "10.0.0.3"], env).WebSocketUrl);
        Assert.Null(CliArguments.Parse([], NoEnvironment).WebSocketUrl);
    }
}
