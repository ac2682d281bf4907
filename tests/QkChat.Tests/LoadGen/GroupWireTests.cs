using System.Text;
using QkChat.Core.Dispatch;
using QkChat.Core.Groups;
using QkChat.LoadGen.Scenarios;
using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>
/// The group scenario reads `group_message` pushes from their bytes (GroupWire): it reads what the server's own
/// fan-out writes (the frame built by Frames.CreatePush with GroupJson, as GroupService.FanOut builds it), leaves every
/// other frame to the client, and allocates nothing per push.
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class GroupWireTests
{
    private const long Run = 1_764_000_000_123;
    private const long SentMicros = 1_764_000_012_345_678;

    /// <summary>A `group_message` push as the server's fan-out writes it.</summary>
    private static byte[] ServerPush(long groupId, long seq, string content)
    {
        var entry = new GroupEntry(groupId, seq, 9_007_199_254_740_000, 123_456_789, GroupEntryTypes.Text, content, 1_764_000_012_345,
            Recalled: false, Event: null, UserIds: []);
        var frame = Frames.CreatePush(PushNames.GroupMessage, entry, GroupJson.WriteMembers);
        try
        {
            return frame.Memory.ToArray();
        }
        finally
        {
            frame.Release();
        }
    }

    [Fact]
    public void A_push_the_server_writes_is_read_with_its_group_seq_and_send_time()
    {
        byte[] push = ServerPush(4_321, 17, ChatContent.Build(Run, SentMicros, 100));

        Assert.True(GroupWire.TryReadPush(push, out GroupPushFrame f));
        Assert.Equal(4_321, f.GroupId);
        Assert.Equal(17, f.Seq);
        Assert.True(f.OurContent);
        Assert.Equal(Run, f.RunId);
        Assert.Equal(SentMicros, f.SentUnixMicros);
    }

    [Fact]
    public void Content_this_scenario_did_not_write_is_read_but_not_timed()
    {
        Assert.True(GroupWire.TryReadPush(ServerPush(5, 2, "hello \"there\""), out GroupPushFrame escaped));
        Assert.Equal(2, escaped.Seq);
        Assert.False(escaped.OurContent);

        Assert.True(GroupWire.TryReadPush(ServerPush(5, 3, "plain words"), out GroupPushFrame plain));
        Assert.Equal(3, plain.Seq);
        Assert.False(plain.OurContent);
    }

    [Theory]
    // The answer to a send (the client matches it to its request), another group push, a one-to-one push, no JSON.
    [InlineData("""{"action":"send_group_message","request_id":"7","success":true,"code":"OK","message":"sent","data":{"message_id":1,"seq":5,"timestamp":2}}""")]
    [InlineData("""{"action":"group_event","push":true,"data":{"group_id":5,"event":"member_added","actor_id":1,"user_ids":[2],"seq":6}}""")]
    [InlineData("""{"action":"message","push":true,"data":{"message_id":77,"sender_id":1,"content":"x"}}""")]
    [InlineData("""{"push":true,"data":{"group_id":5,"seq":6,"content":"x"},"action":"group_message_recalled"}""")]
    [InlineData("not json")]
    public void Every_other_frame_is_left_to_the_client(string body)
    {
        Assert.False(GroupWire.TryReadPush(Encoding.UTF8.GetBytes(body), out _));
    }

    [Fact]
    public void A_push_with_its_fields_in_another_order_is_read_all_the_same()
    {
        byte[] body = Encoding.UTF8.GetBytes($$"""{"data":{"content":"{{ChatContent.Build(Run, SentMicros, 60)}}","seq":9,"group_id":3},"push":true,"action":"group_message"}""");
        Assert.True(GroupWire.TryReadPush(body, out GroupPushFrame f));
        Assert.Equal((3L, 9L, SentMicros), (f.GroupId, f.Seq, f.SentUnixMicros));
    }

    [Fact]
    public void Reading_a_push_allocates_nothing()
    {
        byte[] push = ServerPush(4_321, 17, ChatContent.Build(Run, SentMicros, 100));
        long checksum = 0;
        for (int i = 0; i < 1000; i++) checksum += Read();   // tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) checksum += Read();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, checksum);

        long Read() => GroupWire.TryReadPush(push, out GroupPushFrame f) ? f.Seq + f.SentUnixMicros : 0;
    }
}
