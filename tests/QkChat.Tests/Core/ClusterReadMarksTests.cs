using QkChat.Core.Messaging;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The rules by which the other nodes' read marks bound a read that pages by id (docs/cluster.md "Read marks"), on a clock
/// the test moves by hand. The reverted first attempt (session 11) let a dead or idle node's last mark hold readers back;
/// these pin the rules that replace it: only a real floor holds back, silence and death release, a restarted process
/// retires its predecessor, and a read waits only for nodes that still speak.
/// </summary>
public sealed class ClusterReadMarksTests
{
    private const int Self = 3;
    private const string Deployment = "dep";
    private static readonly TimeSpan Validity = TimeSpan.FromSeconds(2);

    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    private ClusterReadMarks New() => new(Self, "self0000", "host:9000", Deployment, Validity, _clock);

    private void Advance(int ms) => _clock.SetUtcNow(_clock.GetUtcNow().AddMilliseconds(ms));

    private static NodeReadMark Word(long floor, long asOf, string incarnation = "aaaa0000", string where = "host:1", long started = 1,
        string deployment = Deployment) => new(deployment, incarnation, where, started, floor, asOf);

    private static NodeReadMark?[] Words(params (int Node, NodeReadMark Word)[] words)
    {
        var all = new NodeReadMark?[16];
        foreach (var (n, w) in words) all[n] = w;
        return all;
    }

    private static bool[] Live(params int[] nodes)
    {
        var live = new bool[16];
        live[Self] = true;
        foreach (int n in nodes) live[n] = true;
        return live;
    }

    [Fact]
    public void The_word_survives_its_text_form_and_anything_else_reads_as_none()
    {
        var word = Word(123, 456, "deadbeef", "box:8080", 7);
        Assert.Equal(word, NodeReadMark.Parse(word.Format()));
        Assert.Null(NodeReadMark.Parse(null));
        Assert.Null(NodeReadMark.Parse("1000"));
        Assert.Null(NodeReadMark.Parse("dep a b c d e"));
    }

    [Fact]
    public void Before_any_read_and_without_other_nodes_nothing_bounds_the_read()
    {
        var marks = New();
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));
        marks.Update(Words((Self, Word(5, 10))), Live()); // only this node's own word: skipped
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));
    }

    [Fact]
    public void An_idle_node_holds_nothing_back_and_one_with_a_batch_in_flight_holds_back_at_its_floor()
    {
        var marks = New();
        marks.Update(Words((0, Word(0, 2_000)), (1, Word(900, 2_000, "bbbb0000", "host:2"))), Live(0, 1));
        Assert.Equal((900L, false), marks.OthersBelow(1_000)); // node 1's floor is below the read's mark: wait for it
        marks.Update(Words((0, Word(0, 2_100)), (1, Word(0, 2_100, "bbbb0000", "host:2"))), Live(0, 1));
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000)); // released: nothing in flight anywhere
    }

    [Fact]
    public void A_node_that_has_not_spoken_since_the_reads_mark_is_waited_for_until_it_does_or_falls_silent()
    {
        var marks = New();
        marks.Update(Words((0, Word(0, 900))), Live(0)); // idle as of 900: it may have minted below 1,000 since
        Assert.Equal((long.MaxValue, false), marks.OthersBelow(1_000));
        Advance(20);
        marks.Update(Words((0, Word(0, 1_050))), Live(0)); // spoke after the mark, still idle
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));

        // A node that stops speaking (SIGKILL, a stall): not waited for after SilentAfter; idle when last heard, it holds
        // nothing back.
        Advance(20);
        marks.Update(Words((0, Word(0, 1_050))), Live(0)); // the same word again: nothing new from it
        Assert.False(marks.OthersBelow(2_000).Settled);
        Advance((int)ClusterReadMarks.SilentAfter.TotalMilliseconds);
        marks.Update(Words((0, Word(0, 1_050))), Live(0));
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(2_000));
    }

    [Fact]
    public void A_silent_node_with_a_batch_in_flight_holds_back_at_its_floor_until_the_liveness_table_calls_it_dead()
    {
        var marks = New();
        marks.Update(Words((0, Word(700, 900))), Live(0));
        Advance((int)ClusterReadMarks.SilentAfter.TotalMilliseconds + 1);
        marks.Update(Words((0, Word(700, 900))), Live(0));
        Assert.Equal((700L, true), marks.OthersBelow(1_000)); // silent: not waited for, but its floor stands
        marks.Update(Words((0, Word(700, 900))), Live()); // its lease lapsed: its key is still there, it counts no more
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));
    }

    [Fact]
    public void A_restarted_process_of_the_deployment_retires_its_predecessors_mark_at_once()
    {
        // The SIGKILLed process (node 0) still holds its lease; its successor serves from the same host:port under node 1.
        var marks = New();
        var dead = Word(700, 900, "dead0000", "host:8080", started: 100);
        marks.Update(Words((0, dead)), Live(0));
        Assert.Equal(700, marks.OthersBelow(1_000).Bound);
        marks.Update(Words((0, dead), (1, Word(0, 1_200, "new00000", "host:8080", started: 1_100))), Live(0, 1));
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));
        // Another host:port retires nothing.
        marks.Update(Words((0, dead), (1, Word(0, 1_200, "new00000", "host:8081", started: 1_100))), Live(0, 1));
        Assert.Equal(700, marks.OthersBelow(1_000).Bound);
    }

    [Fact]
    public void The_restarted_process_itself_retires_its_predecessors_mark()
    {
        // One node, SIGKILLed and restarted on its host:port under another number: the reader is the successor.
        var marks = New();
        marks.Update(Words((0, Word(700, 900, "dead0000", "host:9000", started: 100))), Live(0));
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));
    }

    [Fact]
    public void Another_deployments_nodes_on_the_same_redis_are_ignored()
    {
        var marks = New();
        marks.Update(Words((0, Word(700, 900, deployment: "other"))), Live(0));
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000));
    }

    [Fact]
    public void Marks_not_read_for_longer_than_their_validity_bound_nothing()
    {
        var marks = New();
        marks.Update(Words((0, Word(700, 2_000))), Live(0));
        Advance((int)Validity.TotalMilliseconds);
        Assert.Equal(700, marks.OthersBelow(1_000).Bound); // still trusted
        Advance(1);
        Assert.Equal((long.MaxValue, true), marks.OthersBelow(1_000)); // Redis away: this node's own watermark alone
        marks.Update(Words((0, Word(700, 2_000))), Live(0));
        Assert.Equal(700, marks.OthersBelow(1_000).Bound);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_waiting_read_returns_at_the_read_that_settles_it_and_at_once_when_settled()
    {
        var marks = New();
        marks.Update(Words((0, Word(0, 900))), Live(0));
        var waiting = marks.OthersBelowAsync(1_000, TimeSpan.FromMinutes(10), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        marks.Update(Words((0, Word(950, 990))), Live(0)); // spoke, but still before the mark and in flight below it
        Assert.False(waiting.IsCompleted);
        marks.Update(Words((0, Word(0, 1_010))), Live(0));
        Assert.Equal(long.MaxValue, await waiting);
        Assert.Equal(long.MaxValue, await marks.OthersBelowAsync(1_000, TimeSpan.FromMinutes(10), CancellationToken.None));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_whose_patience_is_spent_takes_the_bound_as_it_is()
    {
        var marks = New();
        marks.Update(Words((0, Word(800, 900))), Live(0));
        Assert.Equal(800, await marks.OthersBelowAsync(1_000, TimeSpan.Zero, CancellationToken.None));
    }
}
