using System.Buffers;
using QkChat.Server.Cluster;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>The cross-node batch format (docs/cluster.md, "Channels") and the registry's "node:session" values (session = "incarnation:connection").</summary>
public sealed class RouteWireTests
{
    private sealed class Recorder : RouteWire.IHandler
    {
        public List<string> Seen { get; } = [];

        public void Deliver(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, bool droppable, long messageId) =>
            Seen.Add($"deliver {string.Join(",", users.ToArray())} {System.Text.Encoding.UTF8.GetString(body)} {droppable} {messageId}");

        public void DeliverGroup(ReadOnlySpan<uint> users, ReadOnlySpan<byte> body, long groupId, long seq, bool follows) =>
            Seen.Add($"group {groupId}:{seq}{(follows ? " follows" : "")} {users.Length} user(s) {System.Text.Encoding.UTF8.GetString(body)}");

        public void Kick(uint user, string clientId, string reason) => Seen.Add($"kick {user} {clientId} {reason}");

        public void TakeOver(uint user, string clientId, string session, string? device) =>
            Seen.Add($"take-over {user} {clientId} {session} {device ?? "<none>"}");
    }

    [Fact]
    public void Take_over_records_travel_with_and_without_a_device_label_between_other_records()
    {
        var batch = new ArrayBufferWriter<byte>();
        RouteWire.WriteHeader(batch, 3);
        RouteWire.WriteTakeOver(batch, 7, "phone", "a1b2c3d4:f", "Pixel 8 ü");
        RouteWire.WriteDeliver(batch, [7, 9], "{}"u8, droppable: true, 42);
        RouteWire.WriteTakeOver(batch, 8, "tablet", "a1b2c3d4:10", null);
        RouteWire.WriteKick(batch, 9, "laptop", "revoked");

        var seen = new Recorder();
        Assert.True(RouteWire.Read(batch.WrittenSpan, seen, out int sender));
        Assert.Equal(3, sender);
        Assert.Equal(["take-over 7 phone a1b2c3d4:f Pixel 8 ü", "deliver 7,9 {} True 42", "take-over 8 tablet a1b2c3d4:10 <none>",
            "kick 9 laptop revoked"], seen.Seen);
    }

    [Fact]
    public void Group_records_carry_group_seq_and_every_user_in_one_record_and_refuse_a_cut()
    {
        var batch = new ArrayBufferWriter<byte>();
        RouteWire.WriteHeader(batch, 2);
        // More users than a deliver record's chunk (4,096): one seq must reach the receiving node in one piece.
        uint[] many = [.. Enumerable.Range(1, 5000).Select(i => (uint)i)];
        RouteWire.WriteGroup(batch, many, "{\"seq\":7}"u8, 123456789012, 7, follows: false);
        RouteWire.WriteGroup(batch, [5], "{}"u8, 123456789012, 7, follows: true);
        var seen = new Recorder();
        Assert.True(RouteWire.Read(batch.WrittenSpan, seen, out _));
        Assert.Equal(["group 123456789012:7 5000 user(s) {\"seq\":7}", "group 123456789012:7 follows 1 user(s) {}"], seen.Seen);

        var cut = new Recorder();
        Assert.False(RouteWire.Read(batch.WrittenSpan[..^1], cut, out _));
        Assert.Single(cut.Seen);
    }

    [Fact]
    public void A_take_over_record_cut_short_is_refused_after_the_records_before_it()
    {
        var batch = new ArrayBufferWriter<byte>();
        RouteWire.WriteHeader(batch, 1);
        RouteWire.WriteKick(batch, 1, "a", "revoked");
        RouteWire.WriteTakeOver(batch, 2, "phone", "session", "device");
        var seen = new Recorder();
        Assert.False(RouteWire.Read(batch.WrittenSpan[..^3], seen, out _));
        Assert.Equal(["kick 1 a revoked"], seen.Seen);
    }

    [Theory]
    [InlineData("3:a1b2c3d4:f", true, 3, "a1b2c3d4:f")] // the session is "incarnation:connection"
    [InlineData("15:x", true, 15, "x")]
    [InlineData("2", true, 2, null)] // the earlier format: a bare node number
    [InlineData("16:x", false, 16, "x")]
    [InlineData("n:x", false, 0, "x")]
    public void Registry_values_name_the_node_and_the_session(string value, bool ok, int node, string? session)
    {
        Assert.Equal(ok, RouteRegistry.TryParse(value, out int n, out string? s));
        if (!ok) return;
        Assert.Equal((node, session), (n, s));
    }
}
