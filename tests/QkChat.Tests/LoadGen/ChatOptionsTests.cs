using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>qkchat-loadgen's command line for the chat scenario, and how pairs are spread over workers.</summary>
public sealed class ChatOptionsTests
{
    private static LoadGenOptions Parse(params string[] args) => OptionParser.Parse(args)!;

    [Fact]
    public void Chat_defaults_are_one_message_per_second_of_100_bytes_one_in_flight()
    {
        LoadGenOptions o = Parse("chat", "--connections", "10", "--password", "pw-123456");
        Assert.Equal("chat", o.Scenario);
        Assert.Equal(1, o.Rate);
        Assert.Equal(100, o.MessageBytes);
        Assert.Equal(1, o.Pipeline);
        Assert.Equal("lg", o.Prefix);
        Assert.Equal(10, o.DurationSeconds);   // the storm's 180 s default is login-storm's only
    }

    [Fact]
    public void Chat_options_are_read()
    {
        LoadGenOptions o = Parse("chat", "--connections=2000", "--password", "pw", "--rate", "0", "--pipeline", "8",
            "--message-bytes", "4000", "--prefix", "cx");
        Assert.Equal((0.0, 8, 4000, "cx"), (o.Rate, o.Pipeline, o.MessageBytes, o.Prefix));
        Assert.Equal(0.25, Parse("chat", "--connections", "2", "--password", "p", "--rate", "0.25").Rate);
    }

    [Theory]
    [InlineData("chat needs --password", "chat", "--connections", "10")]
    [InlineData("chat needs an even --connections", "chat", "--connections", "11", "--password", "p")]
    [InlineData("chat needs an even --connections", "chat", "--connections", "1", "--password", "p")]
    [InlineData("--rate: '-1' is not a rate", "chat", "--connections", "10", "--password", "p", "--rate", "-1")]
    [InlineData("--rate: 'fast' is not a rate", "chat", "--connections", "10", "--password", "p", "--rate", "fast")]
    [InlineData("--message-bytes: 39 is outside 40..4000", "chat", "--connections", "10", "--password", "p", "--message-bytes", "39")]
    [InlineData("--message-bytes: 4001 is outside 40..4000", "chat", "--connections", "10", "--password", "p", "--message-bytes", "4001")]
    [InlineData("--pipeline: 0 is outside 1..1024", "chat", "--connections", "10", "--password", "p", "--pipeline", "0")]
    [InlineData("chat: more workers than pairs", "chat", "--connections", "4", "--password", "p", "--workers", "3")]
    [InlineData("--rate needs a value", "chat", "--connections", "4", "--password", "p", "--rate")]
    public void Bad_chat_options_exit_with_2_and_say_why(string expected, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(2, OptionParser.ParseForMain(args, stdout, stderr, out LoadGenOptions? options));
        Assert.Null(options);
        Assert.Contains("qkchat-loadgen: " + expected, stderr.ToString());
        Assert.Contains("usage: qkchat-loadgen", stderr.ToString());
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public void Help_names_the_chat_scenario_and_its_options()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, OptionParser.ParseForMain(["--help"], stdout, TextWriter.Null, out _));
        string usage = stdout.ToString();
        Assert.Contains("  chat ", usage);
        foreach (string option in new[] { "--rate R", "--message-bytes B", "--pipeline K" }) Assert.Contains(option, usage);
        Assert.Null(OptionParser.ParseForMain(["chat", "--connections", "2", "--password", "p"], TextWriter.Null, TextWriter.Null, out var ok));
        Assert.NotNull(ok);
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 2)]
    [InlineData(10, 5)]
    [InlineData(30_002, 3)]
    [InlineData(20_000, 7)]
    public void Pairs_are_split_whole_over_workers_and_cover_every_connection(int connections, int workers)
    {
        var options = Parse("chat", "--connections", connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--password", "p", "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        int next = 0;
        for (int i = 0; i < workers; i++)
        {
            WorkerShare share = WorkerShare.For(options, i, workers);
            Assert.Equal(next, share.First);
            Assert.Equal(0, share.First % 2);        // a share starts at the first half of a pair...
            Assert.Equal(0, share.Connections % 2);  // ...and holds whole pairs only
            Assert.InRange(share.Connections, 2 * (connections / 2 / workers), 2 * (connections / 2 / workers + 1));
            next += share.Connections;
        }
        Assert.Equal(connections, next);
    }

    [Fact]
    public void Other_scenarios_keep_splitting_connections_one_by_one()
    {
        var options = Parse("heartbeat", "--connections", "10", "--workers", "4");
        Assert.Equal([3, 3, 2, 2], Enumerable.Range(0, 4).Select(i => WorkerShare.For(options, i, 4).Connections));
        Assert.Equal([0, 3, 6, 8], Enumerable.Range(0, 4).Select(i => WorkerShare.For(options, i, 4).First));
        // 10 connections = 5 pairs over 4 workers: 2 pairs, then 1 each.
        Assert.Equal((0, 4), WorkerShare.PairSplit(10, 0, 4));
        Assert.Equal((4, 2), WorkerShare.PairSplit(10, 1, 4));
        Assert.Equal((8, 2), WorkerShare.PairSplit(10, 3, 4));
    }
}
