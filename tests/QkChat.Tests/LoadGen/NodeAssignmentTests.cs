using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>qkchat-loadgen --nodes and --cross-node (issue 19): which connection goes to which node, in every worker.</summary>
public sealed class NodeAssignmentTests
{
    private static LoadGenOptions Parse(params string[] args) => OptionParser.Parse(args)!;

    [Fact]
    public void Nodes_are_parsed_as_host_port_list_with_bracketed_ipv6()
    {
        Assert.Equal([new NodeEndpoint("127.0.0.1", 8080), new NodeEndpoint("10.0.0.2", 9000), new NodeEndpoint("::1", 8082)],
            NodeEndpoints.Parse("127.0.0.1:8080, 10.0.0.2:9000,[::1]:8082"));
        Assert.Equal("[::1]:8082,a:1", string.Join(',', new[] { new NodeEndpoint("::1", 8082), new NodeEndpoint("a", 1) }));
    }

    [Theory]
    [InlineData("127.0.0.1", "not host:port")]
    [InlineData("127.0.0.1:", "not host:port")]
    [InlineData(":8080", "not host:port")]
    [InlineData("a:0", "no port from 1 to 65535")]
    [InlineData("a:x", "no port from 1 to 65535")]
    [InlineData("::1:8080", "[addr]:port")]
    [InlineData("a:1,a:1", "listed twice")]
    [InlineData(",", "list of 1-16")]
    public void Bad_node_lists_are_refused_with_the_reason(string value, string reason)
    {
        var e = Assert.Throws<UsageException>(() => Parse("heartbeat", "--nodes", value));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Heartbeat_connections_go_round_robin_over_the_nodes()
    {
        LoadGenOptions o = Parse("heartbeat", "--connections", "7", "--nodes", "h:1,h:2,h:3");
        Assert.Equal([1, 2, 3, 1, 2, 3, 1], Enumerable.Range(0, 7).Select(i => o.EndpointFor(i).Port));
        Assert.Equal("h:1,h:2,h:3", string.Join(',', o.Targets));
    }

    [Fact]
    public void Without_nodes_every_connection_goes_to_host_and_port()
    {
        LoadGenOptions o = Parse("heartbeat", "--host", "10.1.1.1", "--port", "9001");
        Assert.All(Enumerable.Range(0, 5), i => Assert.Equal(new NodeEndpoint("10.1.1.1", 9001), o.EndpointFor(i)));
        Assert.Equal([new NodeEndpoint("10.1.1.1", 9001)], o.Targets);
    }

    [Fact]
    public void Chat_keeps_each_pair_on_one_node_and_spreads_the_pairs()
    {
        LoadGenOptions o = Parse("chat", "--connections", "12", "--password", "p", "--nodes", "h:1,h:2,h:3");
        for (int pair = 0; pair < 6; pair++)
        {
            Assert.Equal(o.EndpointFor(2 * pair), o.EndpointFor(2 * pair + 1));
            Assert.Equal(1 + pair % 3, o.EndpointFor(2 * pair).Port);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Cross_node_puts_the_two_users_of_every_pair_on_different_nodes_and_uses_every_node_evenly(int nodes)
    {
        string list = string.Join(',', Enumerable.Range(1, nodes).Select(p => $"h:{p}"));
        LoadGenOptions o = Parse("chat", "--connections", "120", "--password", "p", "--nodes", list, "--cross-node");
        for (int pair = 0; pair < 60; pair++) Assert.NotEqual(o.EndpointFor(2 * pair), o.EndpointFor(2 * pair + 1));
        var perNode = Enumerable.Range(0, 120).GroupBy(i => o.EndpointFor(i).Port).Select(g => g.Count()).ToList();
        Assert.Equal(nodes, perNode.Count);
        Assert.True(perNode.Max() - perNode.Min() <= 1, string.Join(' ', perNode));
    }

    [Fact]
    public void Workers_assign_by_the_run_wide_index_so_a_split_run_matches_one_process()
    {
        LoadGenOptions o = Parse("chat", "--connections", "40", "--password", "p", "--nodes", "h:1,h:2,h:3", "--cross-node", "--workers", "3");
        var seen = new List<int>();
        for (int w = 0; w < 3; w++)
        {
            var share = WorkerShare.For(o, w, 3);
            var context = new ScenarioContext(o, share, new RunClock(0, o.RampUpSeconds, o.DurationSeconds), CancellationToken.None);
            seen.AddRange(Enumerable.Range(0, share.Connections).Select(i => context.EndpointFor(i).Port));
        }
        Assert.Equal(Enumerable.Range(0, 40).Select(i => o.EndpointFor(i).Port), seen);
    }

    [Theory]
    [InlineData("--nodes replaces --host and --port", "heartbeat", "--nodes", "h:1,h:2", "--port", "8080")]
    [InlineData("--nodes replaces --host and --port", "heartbeat", "--host=h", "--nodes", "h:1")]
    [InlineData("--cross-node is for chat and mixed", "heartbeat", "--nodes", "h:1,h:2", "--cross-node")]
    [InlineData("--cross-node needs --nodes with at least two", "chat", "--connections", "4", "--password", "p", "--cross-node")]
    [InlineData("--cross-node needs --nodes with at least two", "chat", "--connections", "4", "--password", "p", "--nodes", "h:1", "--cross-node")]
    public void Inconsistent_node_options_are_refused(string reason, params string[] args)
    {
        var e = Assert.Throws<UsageException>(() => Parse(args));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Mixed_accepts_cross_node_too()
    {
        LoadGenOptions o = Parse("mixed", "--connections", "4", "--password", "p", "--nodes", "h:1,h:2", "--cross-node");
        Assert.NotEqual(o.EndpointFor(0), o.EndpointFor(1));
    }
}
