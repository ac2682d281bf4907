using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The per-group push order of a node (docs/cluster.md, "Group order"): out-of-order arrival, a lost entry filled from
/// the timeline after the wait, duplicates, recalls behind their entry, and idle lines forgotten. The clock is the
/// test's; the deadline check runs when the test calls Tick.
/// </summary>
public sealed class GroupPushOrderTests
{
    private const long Group = 42;
    private const int HoldMs = 500;
    private static readonly uint[] Members = [100_000_001, 100_000_002];

    private long _now = 1_000;
    private readonly RecordingDelivery _devices = new();
    private readonly FakeTimeline _timeline = new();
    private readonly GroupPushOrder _order;

    public GroupPushOrderTests()
    {
        _order = new GroupPushOrder(_devices, HoldMs, NullLogger.Instance, () => _now) { Gaps = _timeline };
    }

    private void Arrive(long seq, string body = "") => _order.Push(new GroupSeq(Group, seq), Members, Frame(body == "" ? $"entry {seq}" : body));

    private static OutboundFrame Frame(string body) => OutboundFrame.Copy(Encoding.UTF8.GetBytes(body));

    [Fact]
    public void Entries_that_arrive_out_of_order_are_pushed_in_seq_order()
    {
        Arrive(5); // the first a node sees of the group: nothing to wait for before it
        Arrive(7);
        Arrive(8);
        Assert.Equal(["entry 5"], _devices.Pushed);
        Arrive(6);
        Assert.Equal(["entry 5", "entry 6", "entry 7", "entry 8"], _devices.Pushed);
        Assert.Equal(2, _order.Stats.Held);
        Assert.Equal(0, _order.Stats.Fills);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_lost_entry_is_filled_from_the_timeline_after_the_wait_and_its_late_copy_is_dropped()
    {
        Arrive(1);
        Arrive(3);
        Arrive(4);
        _now += HoldMs - 1;
        await _order.Tick();
        Assert.Empty(_timeline.Reads); // still within the wait
        Assert.Equal(["entry 1"], _devices.Pushed);

        _now += 1;
        await _order.Tick();
        Assert.Equal([(1L, 4L)], _timeline.Reads); // between the last pushed and the newest held
        Assert.Equal(["entry 1", "stored 2", "entry 3", "entry 4"], _devices.Pushed);
        Assert.Equal((1, 1), (_order.Stats.Fills, _order.Stats.Filled));

        Arrive(2); // the pub/sub copy, later than the wait
        Arrive(5);
        Assert.Equal(["entry 1", "stored 2", "entry 3", "entry 4", "entry 5"], _devices.Pushed);
        Assert.Equal(1, _order.Stats.Duplicates);
    }

    [Fact(Timeout = 10_000)]
    public async Task An_entry_stored_without_a_push_is_filled_to_everyone_but_its_sending_device()
    {
        // The writer could not read the group's members after the commit of 2 (GroupWriter): 2 was answered `sent` to
        // its device and pushed to nobody. 3's push finds the gap, and the fill reads 2 from MariaDB.
        var dispatcher = new Dispatcher(new ChatOptions(), new ActionRouter(), NullLogger.Instance);
        using var connection = new InMemoryConnection(dispatcher);
        var sender = (Session)connection.Connection.State!;
        Arrive(1);
        _order.Unpushed(new GroupSeq(Group, 2), sender);
        Arrive(3);
        _now += HoldMs;
        await _order.Tick();
        Assert.Equal(["entry 1", "stored 2", "entry 3"], _devices.Pushed);
        Assert.Equal([null, sender, null], _devices.Except);
    }

    [Fact]
    public void A_seq_pushed_already_is_dropped()
    {
        Arrive(1);
        Arrive(2);
        Arrive(2);
        Arrive(1);
        Arrive(4);
        Arrive(4); // held already
        Arrive(3);
        Assert.Equal(["entry 1", "entry 2", "entry 3", "entry 4"], _devices.Pushed);
        Assert.Equal(3, _order.Stats.Duplicates);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_gap_the_timeline_cannot_fill_is_skipped_counted_and_the_held_entries_go_out()
    {
        _timeline.Fail = true;
        Arrive(1);
        Arrive(4);
        _now += HoldMs;
        await _order.Tick();
        Assert.Equal(["entry 1", "entry 4"], _devices.Pushed);
        Assert.Equal(2, _order.Stats.Skipped);
        Arrive(2); // too late: given up on, the client syncs
        Assert.Equal(["entry 1", "entry 4"], _devices.Pushed);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_seq_with_no_stored_entry_for_anyone_here_is_passed_without_a_push()
    {
        _timeline.Missing.Add(2);
        Arrive(1);
        Arrive(3);
        _now += HoldMs;
        await _order.Tick();
        Assert.Equal(["entry 1", "entry 3"], _devices.Pushed);
        Assert.Equal(0, _order.Stats.Skipped);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_recall_follows_its_entry_and_does_not_wait_forever_for_one_that_never_comes_here()
    {
        Arrive(1);
        Arrive(3);
        _order.Push(new GroupSeq(Group, 3, Follows: true), Members, Frame("recall 3"));
        _order.Push(new GroupSeq(Group, 1, Follows: true), Members, Frame("recall 1")); // its entry went out: at once
        Assert.Equal(["entry 1", "recall 1"], _devices.Pushed);
        Arrive(2);
        Assert.Equal(["entry 1", "recall 1", "entry 2", "entry 3", "recall 3"], _devices.Pushed);

        _order.Push(new GroupSeq(Group, 9, Follows: true), Members, Frame("recall 9"));
        _now += HoldMs;
        await _order.Tick();
        Assert.Equal("recall 9", _devices.Pushed[^1]);
    }

    [Fact(Timeout = 10_000)]
    public async Task An_idle_group_is_forgotten_and_its_next_entry_starts_a_new_line()
    {
        Arrive(1);
        Assert.Equal(1, _order.Groups);
        _now += GroupPushOrder.IdleMs - 1;
        await _order.Tick();
        Assert.Equal(1, _order.Groups);
        _now += 1;
        await _order.Tick();
        Assert.Equal(0, _order.Groups);

        Arrive(10); // no history before it to fill: pushed at once
        Assert.Equal(["entry 1", "entry 10"], _devices.Pushed);
        Assert.Empty(_timeline.Reads);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_group_with_a_gap_held_is_not_forgotten()
    {
        Arrive(1);
        Arrive(3);
        _now += GroupPushOrder.IdleMs;
        _order.Gaps = null; // nothing to fill from: the gap is skipped at the deadline, never the line dropped with it held
        await _order.Tick();
        Assert.Equal(["entry 1", "entry 3"], _devices.Pushed);
        Assert.Equal(1, _order.Groups);
    }

    [Fact]
    public void A_group_nobody_here_belongs_to_gets_no_line()
    {
        _devices.Online.Clear();
        Arrive(1);
        Arrive(3);
        Assert.Equal(0, _order.Groups);
        Assert.Equal(["entry 1", "entry 3"], _devices.Pushed); // to nobody: LocalDelivery finds no device
    }

    [Fact(Timeout = 10_000)]
    public async Task Held_entries_and_followers_are_released_on_dispose()
    {
        Arrive(1);
        var held = Frame("held");
        var follower = Frame("recall 5");
        // The test keeps a reference of its own to each: when the order released its one, the test's is the last.
        _order.Push(new GroupSeq(Group, 3), Members, held.AddReference());
        _order.Push(new GroupSeq(Group, 5, Follows: true), Members, follower.AddReference());
        await _order.DisposeAsync();
        held.Release();
        follower.Release();
        Assert.Equal((0, 0), (held.Length, follower.Length)); // back in the pool, emptied
        Assert.Equal(["entry 1"], _devices.Pushed);
    }

    /// <summary>This node's devices: records each push's body and releases the frame as LocalDelivery does.</summary>
    private sealed class RecordingDelivery : IDelivery
    {
        public List<string> Pushed { get; } = [];

        /// <summary>The device each push skipped, by push.</summary>
        public List<Session?> Except { get; } = [];
        public HashSet<uint> Online { get; } = [.. Members];

        public int ToUsers(ReadOnlySpan<uint> userIds, OutboundFrame frame, bool droppable = false, Session? except = null)
        {
            lock (Pushed)
            {
                Pushed.Add(Encoding.UTF8.GetString(frame.Memory.Span));
                Except.Add(except);
            }
            frame.Release();
            return userIds.Length;
        }

        public bool IsOnline(uint userId) => Online.Contains(userId);

        public int ToUser(uint userId, OutboundFrame frame, Session? except = null, bool droppable = false, long messageId = 0) =>
            ToUsers([userId], frame, droppable, except);

        public void ToDevice(Session device, OutboundFrame frame) => frame.Release();
        public Session? Attach(Session device) => null;
        public void Detach(Session device) { }
        public bool Kick(uint userId, string clientId, string reason) => false;
        public bool IsOnline(uint userId, string clientId) => Online.Contains(userId);
        public IReadOnlyList<string> DevicesOf(uint userId) => [];
        public Task<IReadOnlyList<string>> DevicesEverywhereAsync(uint userId) => Task.FromResult<IReadOnlyList<string>>([]);
    }

    /// <summary>The group's timeline: every seq is stored ("stored N") but those in <see cref="Missing"/>.</summary>
    private sealed class FakeTimeline : IGroupGapSource
    {
        public List<(long After, long Before)> Reads { get; } = [];
        public HashSet<long> Missing { get; } = [];
        public bool Fail { get; set; }

        public Task<IReadOnlyList<GapEntry>> EntriesAsync(long groupId, long afterSeq, long beforeSeq, CancellationToken ct)
        {
            Reads.Add((afterSeq, beforeSeq));
            if (Fail) throw new InvalidOperationException("MariaDB is away");
            var entries = new List<GapEntry>();
            for (long seq = afterSeq + 1; seq < beforeSeq; seq++)
                if (!Missing.Contains(seq)) entries.Add(new GapEntry(seq, Members, Frame($"stored {seq}")));
            return Task.FromResult<IReadOnlyList<GapEntry>>(entries);
        }
    }
}
