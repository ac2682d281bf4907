using System.Text.Json;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// Issue 18: "the entry is serialised once into a pooled, reference-counted buffer and handed to every online device of
/// every member through the delivery port". Checked on the server's own path (GroupFanOutRig) by the frame objects in
/// the receivers' send queues: one per entry, the same for every device.
/// </summary>
public sealed class GroupFanOutTests
{
    [Fact(Timeout = 60_000)]
    public async Task Each_stored_entry_is_one_frame_queued_to_every_receiving_device()
    {
        var seqs = await GroupFanOutAllocationTests.OnOwnThread(() =>
        {
            using var rig = new GroupFanOutRig(50);
            rig.HoldBatch(3); // three entries in one batch, behind the plug HoldBatch lets go first
            rig.FanOutHeld();
            Assert.True(rig.FannedOutHere(3), "the held batch was fanned out on this thread, its frames in the send queues");
            var first = rig.Receivers[0].Connection.Queued.ToArray();
            Assert.Equal(3, first.Length);
            Assert.Equal(3, first.Distinct().Count());
            foreach (var receiver in rig.Receivers)
            {
                var queued = receiver.Connection.Queued.ToArray();
                Assert.Equal(first.Length, queued.Length);
                for (int i = 0; i < first.Length; i++) Assert.Same(first[i], queued[i]);
            }
            var read = first.Select(f => SeqOf(f.Memory)).ToArray();
            Assert.Equal(0, rig.Sender.Connection.Queued.Count(f => f.Memory.Span.IndexOf("\"group_message\""u8) >= 0));
            rig.TakeOutput(3);
            return read;
        });
        Assert.Equal([3L, 4L, 5L], seqs); // entry 1 is `created`; the store stand-in appends from seq 2, the plug's
    }

    private static long SeqOf(ReadOnlyMemory<byte> body)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("group_message", root.GetProperty("action").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(GroupFanOutRig.GroupId, data.GetProperty("group_id").GetInt64());
        Assert.Equal(GroupFanOutRig.FirstMember, data.GetProperty("sender_id").GetUInt32());
        Assert.Equal("hello, group of many", data.GetProperty("content").GetString());
        return data.GetProperty("seq").GetInt64();
    }
}
