using QkChat.Core.Messaging;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The cluster-wide read bound (docs/messaging.md "Several nodes"): the minimum of this node's exact watermark and every
/// other live node's published one, with no other node (or marks too old to trust) leaving this node's own alone.
/// </summary>
public sealed class ClusterWatermarkTests
{
    private static readonly TimeSpan Validity = TimeSpan.FromSeconds(2);
    private const int Self = 3;

    private static long[] Marks(params (int Node, long Mark)[] published)
    {
        var marks = new long[MessageIds.MaxNode + 1];
        foreach (var (node, mark) in published) marks[node] = mark;
        return marks;
    }

    [Fact]
    public void Without_a_cluster_port_the_bound_is_the_nodes_own_watermark() =>
        Assert.Equal(1_000, OtherNodeMarks.Bound(1_000, null));

    [Fact]
    public void With_no_other_node_the_bound_is_the_nodes_own_watermark()
    {
        var others = new OtherNodeMarks(Validity);
        Assert.Equal(long.MaxValue, others.OthersVisibleBelowAt(0));
        others.Update(Marks((Self, 500)), Self, readSentAtTick: 0); // only this node's own entry
        Assert.Equal(long.MaxValue, others.OthersVisibleBelowAt(10));
        Assert.Equal(1_000, OtherNodeMarks.Bound(1_000, others));
        Assert.Equal(0, others.OtherNodes);
        // Long after the read: nothing to go stale either.
        Assert.Equal(long.MaxValue, others.OthersVisibleBelowAt(1_000_000));
        Assert.False(others.IsStaleAt(1_000_000));
    }

    [Fact]
    public void The_bound_is_the_smallest_of_the_own_exact_mark_and_the_other_nodes_marks()
    {
        var others = new OtherNodeMarks(Validity);
        // This node's own published entry (200) is older than its exact mark: it must not lower the bound.
        others.Update(Marks((0, 900), (Self, 200), (15, 700)), Self, readSentAtTick: 0);
        Assert.Equal(700, others.OthersVisibleBelowAt(1));
        Assert.Equal(2, others.OtherNodes);
        Assert.Equal(700, OtherNodeMarks.Bound(1_000, new Fixed(others.OthersVisibleBelowAt(1))));
        Assert.Equal(650, OtherNodeMarks.Bound(650, new Fixed(others.OthersVisibleBelowAt(1)))); // own below the others
    }

    [Fact]
    public void A_node_whose_mark_expired_leaves_the_minimum()
    {
        var others = new OtherNodeMarks(Validity);
        others.Update(Marks((0, 900), (5, 300)), Self, readSentAtTick: 0);
        Assert.Equal(300, others.OthersVisibleBelowAt(1));
        others.Update(Marks((0, 950)), Self, readSentAtTick: 25); // node 5's key lapsed in Redis: MGET gives nil (0)
        Assert.Equal(950, others.OthersVisibleBelowAt(26));
        others.Update(Marks(), Self, readSentAtTick: 50); // every other node gone
        Assert.Equal(long.MaxValue, others.OthersVisibleBelowAt(51));
    }

    [Fact]
    public void Marks_not_read_for_longer_than_a_mark_lives_no_longer_bound_the_reads()
    {
        var others = new OtherNodeMarks(Validity);
        others.Update(Marks((0, 900)), Self, readSentAtTick: 1_000);
        // Reads fail from here on (Redis unreachable): the last snapshot stands while a mark could still be alive ...
        Assert.Equal(900, others.OthersVisibleBelowAt(2_999));
        Assert.False(others.IsStaleAt(2_999));
        // ... and no longer after: reads fall back to this node's own watermark (not hidden forever).
        Assert.Equal(long.MaxValue, others.OthersVisibleBelowAt(3_000));
        Assert.True(others.IsStaleAt(3_000));
        Assert.Equal(1_000, OtherNodeMarks.Bound(1_000, new Fixed(others.OthersVisibleBelowAt(3_000))));
        // A successful read again: the bound is back.
        others.Update(Marks((0, 1_100)), Self, readSentAtTick: 5_000);
        Assert.Equal(1_100, others.OthersVisibleBelowAt(5_001));
        Assert.False(others.IsStaleAt(5_001));
    }

    [Fact]
    public void The_lag_is_the_milliseconds_the_bound_hides_beyond_the_own_watermark()
    {
        long own = MessageIds.IdSpan(TimeSpan.FromMilliseconds(1_500));
        long bound = MessageIds.IdSpan(TimeSpan.FromMilliseconds(1_000));
        Assert.Equal(500, OtherNodeMarks.LagMs(own, bound));
        Assert.Equal(0, OtherNodeMarks.LagMs(own, own));
        Assert.Equal(0, OtherNodeMarks.LagMs(own, long.MaxValue));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wait_for_the_others_to_pass_a_mark_returns_once_a_read_shows_them_past_it()
    {
        var others = new OtherNodeMarks(TimeSpan.FromMinutes(10));
        others.Update(Marks((0, 900)), Self, Environment.TickCount64);
        Assert.Equal(900, await others.OthersVisibleBelowPastAsync(800, TimeSpan.FromMinutes(1))); // already past: at once
        var waiting = others.OthersVisibleBelowPastAsync(1_000, TimeSpan.FromMinutes(1)).AsTask();
        Assert.False(waiting.IsCompleted);
        others.Update(Marks((0, 950)), Self, Environment.TickCount64); // a read, still below
        others.Update(Marks((0, 1_200)), Self, Environment.TickCount64);
        Assert.Equal(1_200, await waiting);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_that_stays_below_the_mark_ends_the_wait_at_its_patience_with_the_bound_as_it_is()
    {
        var others = new OtherNodeMarks(TimeSpan.FromMinutes(10));
        others.Update(Marks((0, 900)), Self, Environment.TickCount64);
        Assert.Equal(900, await others.OthersVisibleBelowPastAsync(1_000, TimeSpan.FromMilliseconds(50)));
    }

    private sealed class Fixed(long value) : IClusterWatermark
    {
        public long OthersVisibleBelow => value;
        public ValueTask<long> OthersVisibleBelowPastAsync(long target, TimeSpan patience) => ValueTask.FromResult(value);
    }
}
