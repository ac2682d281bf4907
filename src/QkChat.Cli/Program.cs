using QkChat.Cli;
using QkChat.Client;

// qkchat: an interactive command-line chat client (docs/cli.md). Exit codes: 0 done, 1 the server could not be
// reached (or, with piped commands, a command failed), 2 bad usage.
CliArguments options;
try
{
    options = CliArguments.Parse(args, Environment.GetEnvironmentVariable);
}
catch (UsageException e)
{
    Console.Error.WriteLine("qkchat: " + e.Message);
    Console.Error.Write(CliArguments.Usage);
    return 2;
}
if (options.Help)
{
    Console.Out.Write(CliArguments.Usage);
    return 0;
}
if (options.Version)
{
    Console.Out.WriteLine(CliArguments.VersionText);
    return 0;
}

bool terminal = !Console.IsInputRedirected;
var output = new LineOutput(Console.Out, redrawPrompt: terminal && !Console.IsOutputRedirected, terminal: !Console.IsOutputRedirected);
ILineInput input = terminal ? new TerminalInput(output) : new ReaderInput(Console.In);
var clientOptions = new ChatClientOptions
{
    UseTls = options.Tls,
    // --insecure: no authentication of the server at all; for a test server's self-signed certificate only.
    CertificateValidation = options.Insecure ? (_, _, _, _) => true : null,
};
var settings = new SessionSettings(options.Host, options.Port, clientOptions, DefaultClientId()) { WebSocketUrl = options.WebSocketUrl };
await using var session = new Session(settings, input, output);
return await session.RunAsync(CancellationToken.None);

// One device id per machine, so logging in again from here replaces the old connection instead of adding one.
static string DefaultClientId()
{
    string host = new([.. Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')]);
    return "cli-" + (host.Length == 0 ? "local" : host[..Math.Min(host.Length, 56)]);
}
