using System.Text.RegularExpressions;
using QkChat.LoadGen.Fuzz;
using Xunit;

namespace QkChat.Tests.LoadGen;

public sealed partial class FuzzGeneratorTests
{
    // Names in the Status table of docs/protocol.md that are pushes, not actions a client sends.
    private static readonly string[] PushesInStatusTable = ["presence", "server_shutdown", "offline_messages"];

    [GeneratedRegex("`([a-z_]+)`")]
    private static partial Regex BacktickedName();

    [Fact]
    public void The_fuzzer_covers_exactly_the_actions_of_docs_protocol_md()
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "protocol.md"));
        int start = Array.IndexOf(lines, "## Status");
        var table = lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)).Where(l => l.StartsWith('|'));
        var documented = table.SelectMany(l => BacktickedName().Matches(l).Select(m => m.Groups[1].Value))
            .Except(PushesInStatusTable).ToHashSet();
        Assert.True(documented.Count > 30, "the Status table was not found or not parsed");
        Assert.Equal(documented.Order(), FuzzActions.All.Select(a => a.Name).Order());
    }

    [Fact]
    public void The_same_seed_gives_the_same_cases_and_every_class_comes_up()
    {
        var a = new FrameGenerator(42, [123456789]);
        var b = new FrameGenerator(42, [123456789]);
        var classes = new HashSet<string>();
        for (int i = 0; i < 2_000; i++)
        {
            var x = a.Next();
            var y = b.Next();
            Assert.Equal(FrameGenerator.Show(x, int.MaxValue), FrameGenerator.Show(y, int.MaxValue));
            classes.Add(x.Class);
        }
        Assert.Equal(FrameGenerator.ClassNames.Order(), classes.Order());
    }

    [Fact]
    public void Every_action_is_generated()
    {
        var generator = new FrameGenerator(7, []);
        var seen = new HashSet<string>();
        for (int i = 0; i < 20_000; i++)
        {
            string text = FrameGenerator.Show(generator.Next(), int.MaxValue);
            foreach (var action in FuzzActions.All)
                if (text.Contains($"\"action\":\"{action.Name}\"", StringComparison.Ordinal)) seen.Add(action.Name);
        }
        Assert.Equal(FuzzActions.All.Select(a => a.Name).Order(), seen.Order());
    }

    [Theory]
    [InlineData(new[] { "--frames", "5", "--seed", "9", "--port", "9000", "--prefix", "p", "--password", "pw" }, 5L, 9, 9000)]
    public void The_command_line_is_read(string[] args, long frames, int seed, int port)
    {
        var o = FuzzCommand.Parse(args);
        Assert.Equal((frames, seed, port, "p", "pw"), (o.Frames, o.Seed, o.Port, o.Prefix, o.Password));
        Assert.Throws<QkChat.LoadGen.Options.UsageException>(() => FuzzCommand.Parse(["--prefix", "p"]));
        Assert.Throws<QkChat.LoadGen.Options.UsageException>(() => FuzzCommand.Parse(["--frames", "0"]));
    }
}
