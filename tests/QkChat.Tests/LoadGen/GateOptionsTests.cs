using QkChat.LoadGen.Options;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>qkchat-loadgen's command line for the gates, levels, charts and the mixed scenario's blend.</summary>
public sealed class GateOptionsTests
{
    private static LoadGenOptions Parse(params string[] args) => OptionParser.Parse(args)!;

    [Fact]
    public void Gates_levels_and_svg_are_read()
    {
        LoadGenOptions o = Parse("chat", "--password", "p", "--max-p99-ms", "250.5", "--min-success=99.9", "--levels", "2000, 5000,10000",
            "--svg", "/tmp/charts");
        Assert.Equal(250.5, o.MaxP99Ms);
        Assert.Equal(99.9, o.MinSuccessPercent);
        Assert.Equal([2000, 5000, 10000], o.Levels);
        Assert.Equal("/tmp/charts", o.SvgDir);
        Assert.Equal(100, Parse("heartbeat", "--min-success", "100%").MinSuccessPercent);
    }

    [Fact]
    public void Without_gates_nothing_is_limited()
    {
        LoadGenOptions o = Parse("heartbeat");
        Assert.Null(o.MaxP99Ms);
        Assert.Null(o.MinSuccessPercent);
        Assert.Empty(o.Levels);
        Assert.Null(o.SvgDir);
    }

    [Fact]
    public void A_level_is_the_same_run_at_another_connection_count_for_the_workers_too()
    {
        LoadGenOptions o = Parse("chat", "--connections", "10", "--password", "p", "--levels=20,40", "--rate", "2", "--quiet");
        LoadGenOptions level = o.AtLevel(40);
        Assert.Equal(40, level.Connections);
        Assert.Empty(level.Levels);
        Assert.Equal(2, level.Rate);
        // Workers parse these arguments again: they must describe this level and no sweep.
        LoadGenOptions reparsed = Parse([.. level.RawArguments]);
        Assert.Equal(40, reparsed.Connections);
        Assert.Empty(reparsed.Levels);
        Assert.Equal(2, reparsed.Rate);
        Assert.Equal(10, o.Connections);   // the original is untouched
        // The default worker count follows the level, not the original --connections.
        Assert.Equal(2, Parse("heartbeat", "--levels", "100,20000").AtLevel(20_000).EffectiveWorkers);
    }

    [Fact]
    public void The_mix_replaces_the_whole_blend()
    {
        Assert.Equal(MixWeights.Default, Parse("mixed", "--password", "p").Mix);
        MixWeights mix = Parse("mixed", "--password", "p", "--mix", "send=3,history=1").Mix;
        Assert.Equal(new MixWeights(3, 0, 1, 0, 0, 0), mix);
        Assert.Equal(4, mix.Total);
        Assert.Equal([0, 0, 0, 2], Enumerable.Range(0, 4).Select(mix.Pick));
        Assert.Equal("send=60,read=10,history=10,conversations=5,presence=5,heartbeat=10", MixWeights.Default.ToString());
        Assert.Equal(MixWeights.Default, MixWeights.Parse(MixWeights.Default.ToString()));
        Assert.Equal(100, MixWeights.Default.Total);   // the documented blend reads as percentages
    }

    [Theory]
    [InlineData("--max-p99-ms: '0' is not a positive number", "heartbeat", "--max-p99-ms", "0")]
    [InlineData("--max-p99-ms: 'fast' is not a positive number", "heartbeat", "--max-p99-ms", "fast")]
    [InlineData("--min-success: '101' is not a percentage", "heartbeat", "--min-success", "101")]
    [InlineData("--min-success: '-1' is not a percentage", "heartbeat", "--min-success", "-1")]
    [InlineData("--levels: 'x' is not a whole number", "heartbeat", "--levels", "100,x")]
    [InlineData("--levels: ',' is not a list", "heartbeat", "--levels", ",")]
    [InlineData("chat needs an even --connections of at least 2 (users 2k and 2k+1 chat), not 101", "chat", "--password", "p", "--levels", "100,101")]
    [InlineData("mixed needs --password", "mixed", "--connections", "10")]
    [InlineData("mixed needs an even --connections", "mixed", "--connections", "9", "--password", "p")]
    [InlineData("--mix: unknown action 'typing'", "mixed", "--password", "p", "--mix", "send=1,typing=2")]
    [InlineData("--mix: the blend needs send above 0", "mixed", "--password", "p", "--mix", "read=1")]
    [InlineData("--mix: 'send=-1' is not NAME=WEIGHT", "mixed", "--password", "p", "--mix", "send=-1")]
    [InlineData("--mix: 'send' is not NAME=WEIGHT", "mixed", "--password", "p", "--mix", "send")]
    public void Bad_values_exit_with_2_and_say_why(string expected, params string[] args)
    {
        var stderr = new StringWriter();
        Assert.Equal(2, OptionParser.ParseForMain(args, TextWriter.Null, stderr, out LoadGenOptions? options));
        Assert.Null(options);
        Assert.Contains("qkchat-loadgen: " + expected, stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_new_options_the_mixed_scenario_and_the_exit_codes()
    {
        string usage = OptionParser.Usage();
        foreach (string option in new[] { "--max-p99-ms X", "--min-success P", "--levels N,N,..", "--svg DIR", "--mix BLEND" })
            Assert.Contains(option, usage, StringComparison.Ordinal);
        Assert.Contains("  mixed ", usage, StringComparison.Ordinal);
        Assert.Contains("3 --max-p99-ms exceeded", usage, StringComparison.Ordinal);
        Assert.Contains("4 success rate below --min-success", usage, StringComparison.Ordinal);
    }
}
