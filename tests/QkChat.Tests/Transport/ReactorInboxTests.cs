using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

/// <summary>
/// The reactor inbox under real threads. Items are longs (producer &lt;&lt; 32 | sequence), so the consumer can
/// check exactly-once delivery and each producer's order without allocating per item.
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class ReactorInboxTests
{
    // Generous: the whole class runs in a few seconds on 2 busy cores; a hang means a lost wake-up, and must fail.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static long Item(int producer, int sequence) => ((long)producer << 32) | (uint)sequence;

    [Fact]
    public void Items_cross_many_ring_boundaries_in_order_when_nothing_is_taken_in_between()
    {
        var inbox = new ReactorInbox<long>(initialCapacity: 2, maxSegmentCapacity: 4);
        for (int i = 0; i < 10_000; i++) inbox.Post(i);
        Assert.True(inbox.SegmentsAdded >= 10_000 / 4 - 2, $"only {inbox.SegmentsAdded} rings linked");
        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(inbox.TryTake(out long item));
            Assert.Equal(i, item);
        }
        Assert.False(inbox.TryTake(out _));
    }

    [Fact]
    public void Interleaved_posts_and_takes_wrap_the_ring_and_grow_it_without_reordering()
    {
        var inbox = new ReactorInbox<long>(initialCapacity: 4, maxSegmentCapacity: 8);
        long posted = 0, taken = 0;
        for (int round = 0; round < 2_000; round++)
        {
            int burst = round % 13; // sometimes more than a ring holds, sometimes less
            for (int i = 0; i < burst; i++) inbox.Post(posted++);
            int take = round % 7;
            for (int i = 0; i < take && inbox.TryTake(out long item); i++) Assert.Equal(taken++, item);
        }
        while (inbox.TryTake(out long item)) Assert.Equal(taken++, item);
        Assert.Equal(posted, taken);
        Assert.True(inbox.SegmentsAdded > 10, $"only {inbox.SegmentsAdded} rings linked");
    }

    [Fact]
    public void Many_producers_and_one_consumer_deliver_every_item_once_in_each_producers_order()
    {
        const int producers = 4, perProducer = 200_000;
        // Small rings: the consumer falls behind on 2 cores, so producers freeze and link rings all the time.
        var inbox = new ReactorInbox<long>(initialCapacity: 16, maxSegmentCapacity: 64);
        var next = new int[producers];
        long received = 0;
        string? failure = null;
        var consumer = new Thread(() =>
        {
            while (received < producers * (long)perProducer && failure is null)
            {
                inbox.Wait();
                while (inbox.TryTake(out long item))
                {
                    int p = (int)(item >> 32), seq = (int)item;
                    if (p is < 0 or >= producers || seq != next[p])
                    {
                        failure ??= $"producer {p}: got {seq}, expected {(p is >= 0 and < producers ? next[p] : -1)}";
                        return;
                    }
                    next[p]++;
                    received++;
                }
            }
        }) { IsBackground = true, Name = "inbox-consumer" };
        consumer.Start();
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < perProducer; i++) inbox.Post(Item(p, i));
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(Patience), "producer did not finish"));
        Assert.True(consumer.Join(Patience), $"consumer stuck at {Volatile.Read(ref received)} items (a lost wake-up?)");
        Assert.Null(failure);
        Assert.All(next, n => Assert.Equal(perProducer, n));
        Assert.False(inbox.TryTake(out _));
        Assert.True(inbox.SegmentsAdded > 0, "no ring boundary was crossed");
        TestContext.Current.SendDiagnosticMessage($"{inbox.SegmentsAdded} rings linked");
    }

    /// <summary>
    /// Deterministic: a post at each step of the consumer's way to sleep (after its empty check, after clearing old
    /// wake-ups, after announcing the park, after its last check) must still wake it. A missing re-check or a park
    /// announced after the check would leave it asleep with an item in the inbox, and the join would time out.
    /// </summary>
    [Theory]
    [InlineData("Checked")]
    [InlineData("Reset")]
    [InlineData("Announced")]
    [InlineData("Rechecked")]
    public void A_post_at_any_step_of_parking_wakes_the_consumer(string step)
    {
        var stage = Enum.Parse<ParkStage>(step); // by name: the enum is internal, a public test cannot take it
        var inbox = new ReactorInbox<long>(initialCapacity: 2, maxSegmentCapacity: 2);
        bool posted = false;
        inbox.ParkingProbe = s =>
        {
            if (s != stage || posted) return;
            posted = true;
            // From another thread, as in the reactor; joined so the post is complete before the consumer goes on.
            var producer = new Thread(() => inbox.Post(42));
            producer.Start();
            producer.Join();
        };
        long item = 0;
        var consumer = new Thread(() =>
        {
            while (!inbox.TryTake(out item)) inbox.Wait();
        }) { IsBackground = true };
        consumer.Start();
        Assert.True(consumer.Join(TimeSpan.FromSeconds(10)), $"a post at {stage} did not wake the consumer");
        Assert.True(posted);
        Assert.Equal(42, item);
    }

    /// <summary>
    /// Producers post a small burst each time the consumer has taken everything, i.e. just as it is about to park:
    /// the window between its last check and its sleep. A lost wake-up leaves a round's items untaken, and since
    /// nothing else is posted until the round is taken, it shows as a timeout instead of being rescued later.
    /// The rounds go on until the consumer has really parked often (how often a round catches it parking depends on
    /// the machine's load, so a fixed number of rounds proved it on an idle machine only), within a deadline.
    /// </summary>
    [Fact]
    public void No_wake_up_is_lost_when_posts_race_the_consumer_parking()
    {
        // At least as many rounds and parks as the fixed version proved on an idle machine (30,000 rounds, 3,000 parks).
        const int producers = 2, perRound = 2, minRounds = 30_000, minParks = 3_000, maxRounds = 3_000_000;
        const long sentinel = long.MinValue; // Item() is never negative
        var inbox = new ReactorInbox<long>(initialCapacity: 4, maxSegmentCapacity: 8);
        long taken = 0;
        int parks = 0;
        inbox.ParkingProbe = s => { if (s == ParkStage.Rechecked) Interlocked.Increment(ref parks); };
        var consumer = new Thread(() =>
        {
            for (bool done = false; !done;)
            {
                inbox.Wait();
                while (inbox.TryTake(out long item))
                {
                    if (item == sentinel) done = true;
                    else Interlocked.Increment(ref taken);
                }
            }
        }) { IsBackground = true, Name = "inbox-consumer" };
        consumer.Start();

        long stuckRound = -1;
        int roundLimit = maxRounds; // lowered once, to the round after the one where enough parks were seen
        long patienceEnds = Environment.TickCount64 + (long)Patience.TotalMilliseconds / 2;
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (int round = 0; round < Volatile.Read(ref roundLimit) && Volatile.Read(ref stuckRound) < 0; round++)
            {
                // Every producer finishes the round in which one of them decides to stop: the others may already
                // have posted it, and each round's wait counts all producers' posts. No producer can be past this
                // round yet (it waits for this round to be taken, which needs this producer's posts).
                if (round >= minRounds && (Volatile.Read(ref parks) >= minParks || Environment.TickCount64 > patienceEnds))
                    InterlockedMin(ref roundLimit, round + 1);
                // Post as soon as the previous round is taken (the consumer is then on its way to park), a little
                // later each round so the posts land all over that short window.
                Thread.SpinWait(round % 32);
                for (int i = 0; i < perRound; i++) inbox.Post(Item(p, round * perRound + i));
                // Nobody posts again until the whole round is taken, so a lost wake-up cannot be rescued by later posts.
                long goal = (long)(round + 1) * producers * perRound;
                var deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds / 4;
                for (int spins = 0; Volatile.Read(ref taken) < goal; spins++)
                {
                    // Busy at first, to see the round taken the moment it is; then yield, as 2 cores are shared.
                    if (spins < 1_000) continue;
                    if (Environment.TickCount64 > deadline)
                    {
                        Interlocked.CompareExchange(ref stuckRound, round, -1);
                        return;
                    }
                    Thread.Yield();
                }
            }
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(Patience), "producer did not finish"));
        inbox.Post(sentinel);
        Assert.True(stuckRound < 0, $"round {stuckRound} was never taken: {Volatile.Read(ref taken)} items taken (lost wake-up)");
        Assert.True(consumer.Join(Patience), "consumer did not finish");
        Assert.Equal((long)producers * perRound * roundLimit, Volatile.Read(ref taken));
        // The rounds must really have raced the parking, not found the consumer always busy: on a machine too loaded
        // to let the consumer park that often within half the patience, this says so instead of passing unproven.
        Assert.True(parks >= minParks, $"the consumer parked only {parks} times in {roundLimit} rounds");
        TestContext.Current.SendDiagnosticMessage($"parked {parks} times in {roundLimit} rounds");
    }

    private static void InterlockedMin(ref int location, int value)
    {
        for (int seen = Volatile.Read(ref location); value < seen;)
        {
            int before = Interlocked.CompareExchange(ref location, value, seen);
            if (before == seen) return;
            seen = before;
        }
    }

    [Fact]
    public void Posting_and_taking_allocate_nothing_once_the_ring_is_warm()
    {
        var inbox = new ReactorInbox<long>();
        for (int i = 0; i < 10_000; i++)
        {
            inbox.Post(i);
            inbox.TryTake(out _);
        }
        long sum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 1_000; round++)
        {
            for (int i = 0; i < 100; i++) inbox.Post(i);
            inbox.Wait(); // returns at once: there is work
            while (inbox.TryTake(out long item)) sum += item;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_000L * 4950, sum);
        Assert.Equal(0, allocated);
    }
}
