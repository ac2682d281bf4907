using System.Reflection;
using QkChat.LoadGen.Fuzz;
using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// Action and push names are written once, in src/QkChat.Protocol (<see cref="Actions"/>, <see cref="PushNames"/>):
/// the server registers and pushes with them, and the client, the CLI and the load generator send and match them, so
/// a client sees the names the server uses (architecture.md §6, "the contract lives in Protocol"). This scans every
/// .cs file under src/ and bench/ (Protocol, obj/ and bin/ excepted) and fails on a string literal, plain or UTF-8,
/// that equals one of those names.
/// </summary>
public sealed class WireNameLiteralTests
{
    /// <summary>Names that are also a different, everyday word of the protocol, too common to police.</summary>
    private static readonly Dictionary<string, string> NameExceptions = new(StringComparer.Ordinal)
    {
        ["message"] = "the `message` push shares its name with the envelope's `message` field and friend_request's field",
    };

    /// <summary>Literals that spell a wire name but mean something else; (file relative to the repository, literal).</summary>
    private static readonly Dictionary<(string File, string Literal), string> LiteralExceptions = new()
    {
        [("src/QkChat.Core/Audit/IAuditLog.cs", "login")] = "audit event names are stored in security_events rows and must not follow an action rename",
        [("src/QkChat.Core/Audit/IAuditLog.cs", "logout")] = "audit event name (as above)",
        [("src/QkChat.Core/Audit/IAuditLog.cs", "kicked")] = "audit event name (as above)",
        [("src/QkChat.Core/Dispatch/Dispatcher.cs", "login")] = "which timeout ended a connection (server.login_timeout_s), in a log line",
        [("src/QkChat.Server/Configuration/OptionRegistry.cs", "error")] = "a log level of logging.level",
        [("src/QkChat.Server/Logging/LogLevelSwitch.cs", "error")] = "a log level of logging.level",
        [("src/QkChat.Cli/CommandParser.cs", "register")] = "a command word of the qkchat CLI (docs/cli.md)",
        [("src/QkChat.Cli/CommandParser.cs", "login")] = "a command word of the qkchat CLI",
        [("src/QkChat.Cli/CommandParser.cs", "logout")] = "a command word of the qkchat CLI",
        [("src/QkChat.Cli/Session.Commands.cs", "register")] = "a command word of the qkchat CLI",
        [("src/QkChat.Cli/Session.Commands.cs", "login")] = "a command word of the qkchat CLI",
        [("src/QkChat.Cli/Session.Commands.cs", "logout")] = "a command word of the qkchat CLI",
        [("bench/QkChat.LoadGen/Scenarios/HeartbeatScenario.cs", "heartbeat")] = "qkchat-loadgen's scenario name (docs/loadgen.md)",
        [("bench/QkChat.LoadGen/Options/MixWeights.cs", "heartbeat")] = "a weight name of qkchat-loadgen's --mix (docs/loadgen.md)",
        [("bench/QkChat.LoadGen/Options/MixWeights.cs", "presence")] = "a weight name of qkchat-loadgen's --mix (it sends status_update)",
    };

    [Fact]
    public void No_action_or_push_name_is_written_as_a_literal_outside_Protocol()
    {
        var names = WireNames();
        var offences = new List<string>();
        foreach (string file in SourceFiles())
        {
            string relative = Path.GetRelativePath(RepoPaths.Root, file).Replace('\\', '/');
            foreach (var (literal, line) in CSharpLiterals.Strings(File.ReadAllText(file)))
            {
                if (!names.Contains(literal) || NameExceptions.ContainsKey(literal)) continue;
                if (LiteralExceptions.ContainsKey((relative, literal))) continue;
                offences.Add($"{relative}:{line}: \"{literal}\"");
            }
        }
        Assert.True(offences.Count == 0,
            "wire names written as literals (use QkChat.Protocol.Actions or PushNames):\n" + string.Join('\n', offences));
    }

    [Fact]
    public void The_exceptions_are_still_needed()
    {
        // An exception whose literal is gone would silently allow the name there again.
        foreach (var ((file, literal), reason) in LiteralExceptions)
        {
            string path = Path.Combine(RepoPaths.Root, file);
            Assert.True(File.Exists(path), $"{file} ({reason})");
            Assert.Contains(CSharpLiterals.Strings(File.ReadAllText(path)), l => l.Text == literal);
        }
    }

    [Fact]
    public void Actions_holds_every_documented_action_and_PushNames_every_push()
    {
        // FuzzGeneratorTests holds the fuzzer's list equal to docs/protocol.md's actions, so this ties Actions to the page.
        Assert.Equal(FuzzActions.All.Select(a => a.Name).Order(), Constants(typeof(Actions)).Order());
        Assert.Equal(["error", "friend_deleted", "friend_request", "friend_request_result", "group_event", "group_message",
            "group_message_recalled", "group_read", "kicked", "message", "message_recalled", "message_status", "offline_messages",
            "presence", "server_shutdown"], Constants(typeof(PushNames)).Order());
    }

    [Fact]
    public void The_scanner_finds_literals_and_skips_comments()
    {
        string source = string.Join('\n',
            "// \"login\" in a comment",
            "/* \"logout\" */ var a = \"heartbeat\"; var b = \"send_message\"u8; var c = @\"say \"\"hi\"\"\";",
            "var d = $\"x{y}z\"; var e = '\"'; var f = \"\"\"",
            "    raw",
            "    \"\"\";",
            "var g = \"a\\\"b\"; var h = $\"{(\"logout\")}\";");
        var found = CSharpLiterals.Strings(source).ToList();
        Assert.Contains(found, l => l.Text == "heartbeat" && l.Line == 2);
        Assert.Contains(found, l => l.Text == "send_message");
        Assert.Contains(found, l => l.Text == "say \"hi\"");
        Assert.Contains(found, l => l.Text == "raw");
        Assert.Contains(found, l => l.Text == "a\"b");
        Assert.Contains(found, l => l.Text == "logout" && l.Line == 6);   // inside an interpolation hole
        Assert.DoesNotContain(found, l => l.Text == "login" || (l.Text == "logout" && l.Line != 6));
    }

    private static HashSet<string> WireNames()
    {
        var names = new HashSet<string>(Constants(typeof(Actions)), StringComparer.Ordinal);
        names.UnionWith(Constants(typeof(PushNames)));
        return names;
    }

    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => f.GetRawConstantValue()).OfType<string>();

    private static IEnumerable<string> SourceFiles()
    {
        foreach (string top in new[] { "src", "bench" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, top), "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepoPaths.Root, file).Replace('\\', '/');
                if (relative.StartsWith("src/QkChat.Protocol/", StringComparison.Ordinal)) continue;
                if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)) continue;
                yield return file;
            }
        }
    }
}
