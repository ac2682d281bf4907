using System.Reflection;
using System.Text.RegularExpressions;
using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.Web;

/// <summary>
/// Static checks of the web client's files (src/QkChat.Server/Web/wwwroot): every error code the server can answer
/// has a sentence for people, every action the page sends and every push it handles is one the protocol knows (a
/// typo would fail only at run time, in one browser), and the page loads nothing from outside the server.
/// </summary>
public sealed partial class WebClientFilesTests
{
    private static readonly string Root = Path.Combine(RepoPaths.Root, "src", "QkChat.Server", "Web", "wwwroot");

    private static string[] Files(params string[] extensions) =>
        Directory.GetFiles(Root, "*", SearchOption.AllDirectories).Where(f => extensions.Contains(Path.GetExtension(f))).ToArray();

    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Every_error_code_has_a_sentence()
    {
        string table = File.ReadAllText(Path.Combine(Root, "js", "errors.js"));
        var missing = Constants(typeof(ErrorCodes)).Where(code => code != ErrorCodes.Ok)
            .Where(code => !Regex.IsMatch(table, $@"^\s*{code}: '[^']{{10,}}',$", RegexOptions.Multiline)).ToList();
        Assert.True(missing.Count == 0, "js/errors.js has no sentence for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_action_sent_and_push_handled_is_in_the_protocol()
    {
        var actions = Constants(typeof(Actions)).ToHashSet();
        var pushes = Constants(typeof(PushNames)).ToHashSet();
        var sent = new List<string>();
        var handled = new List<string>();
        foreach (string file in Files(".js"))
        {
            string text = File.ReadAllText(file);
            sent.AddRange(RequestCall().Matches(text).Select(m => m.Groups[1].Value));
            if (Path.GetFileName(file) == "pushes.js") handled.AddRange(PushCase().Matches(text).Select(m => m.Groups[1].Value));
        }
        Assert.True(sent.Count > 30, $"found only {sent.Count} request(...) calls: has the client's request style changed?");
        Assert.Empty(sent.Where(a => !actions.Contains(a)).Distinct());
        Assert.True(handled.Count >= 15, $"found only {handled.Count} push cases in pushes.js");
        Assert.Empty(handled.Where(p => !pushes.Contains(p)).Distinct());
    }

    [Fact]
    public void The_page_loads_nothing_from_outside_the_server_and_every_file_it_names_exists()
    {
        foreach (string file in Files(".html", ".css", ".js"))
        {
            string text = File.ReadAllText(file);
            foreach (Match m in Reference().Matches(text))
            {
                string target = m.Groups["target"].Value;
                Assert.False(target.Contains("//", StringComparison.Ordinal) || target.StartsWith("http", StringComparison.OrdinalIgnoreCase),
                    $"{Path.GetRelativePath(Root, file)} loads {target} from outside the server");
                if (target.StartsWith("data:", StringComparison.Ordinal) || target.StartsWith('#')) continue;
                string resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target));
                Assert.True(File.Exists(resolved), $"{Path.GetRelativePath(Root, file)} names {target}, which does not exist");
            }
        }
    }

    [GeneratedRegex(@"\b(?:request|act)\('([a-z_]+)'")]
    private static partial Regex RequestCall();

    [GeneratedRegex(@"^\s*case '([a-z_]+)':", RegexOptions.Multiline)]
    private static partial Regex PushCase();

    // import ... from '...', <script src>, <link href>, url(...): whatever the browser would fetch by itself.
    [GeneratedRegex("""(?:\bfrom\s+'(?<target>[^']+)'|\b(?:src|href)="(?<target>[^"#][^"]*)"|url\((?<target>[^)]+)\))""")]
    private static partial Regex Reference();
}
