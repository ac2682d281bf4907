using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core;
using QkChat.Core.Messaging;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>A clock the test sets by hand.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void SetUtcNow(DateTimeOffset now) => _now = now;
}

public sealed class MessageIdsTests
{
    [Fact]
    public void Ids_increase_stay_below_2_pow_53_and_carry_their_millisecond_and_node()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var ids = new MessageIds(node: 5, clock);
        long first = ids.Next(), second = ids.Next();
        Assert.True(second > first);
        Assert.True(first < 1L << 53);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), MessageIds.TimestampOf(first));
        Assert.Equal(5, (first >> 8) & 0xF);
        // The last year the layout serves (2025 + 69) still fits 53 bits.
        clock.SetUtcNow(new DateTimeOffset(2094, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.True(ids.Next() < 1L << 53);
    }

    [Fact]
    public void A_burst_past_256_per_millisecond_borrows_the_next_millisecond_and_a_clock_step_back_changes_nothing()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var ids = new MessageIds(0, clock);
        var burst = Enumerable.Range(0, 1000).Select(_ => ids.Next()).ToArray();
        Assert.Equal(burst.Order(), burst);
        Assert.Equal(1000, burst.Distinct().Count());
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds() + 3, MessageIds.TimestampOf(burst[^1]));
        clock.SetUtcNow(clock.GetUtcNow().AddSeconds(-10));
        Assert.True(ids.Next() > burst[^1]);
    }

    [Fact]
    public void After_AdvancePast_every_id_is_above_the_stored_mark_even_with_the_clock_behind_it()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        // The mark: stored by a run whose clock was an hour ahead, on a larger node number, at the top of a sequence.
        var ahead = new MessageIds(node: 15, new ManualClock(clock.GetUtcNow().AddHours(1)));
        long mark = Enumerable.Range(0, 300).Select(_ => ahead.Next()).Max();
        var ids = new MessageIds(node: 0, clock);
        Assert.True(ids.Next() < mark); // without the mark, this clock repeats the earlier run's ids
        ids.AdvancePast(mark);
        long first = ids.Next();
        Assert.True(first > mark);
        Assert.Equal(MessageIds.TimestampOf(mark) + 1, MessageIds.TimestampOf(first));
        // A smaller mark changes nothing; ids keep increasing.
        ids.AdvancePast(1);
        Assert.True(ids.Next() > first);
    }

    [Fact]
    public void Concurrent_callers_never_get_the_same_id()
    {
        var ids = new MessageIds(1);
        var all = new System.Collections.Concurrent.ConcurrentBag<long>();
        Parallel.For(0, 8, _ => { for (int i = 0; i < 10_000; i++) all.Add(ids.Next()); });
        Assert.Equal(80_000, all.Distinct().Count());
    }
}

public sealed class WriteBehindTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Item(int weight)
    {
        public int Weight { get; } = weight;
        public readonly TaskCompletionSource<string> Answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Writer(Func<List<Item>, Task> write, int maxWeight, int capacity = 1000)
        : WriteBehind<Item>(capacity, maxWeight, TimeSpan.Zero, NullLogger.Instance)
    {
        public readonly List<int> BatchWeights = [];

        protected override int Weight(Item item) => item.Weight;

        protected override async Task WriteAsync(List<Item> batch)
        {
            lock (BatchWeights) BatchWeights.Add(batch.Sum(i => i.Weight));
            await write(batch);
            foreach (var item in batch) item.Answer.TrySetResult("stored");
        }

        protected override void Fail(Item item, bool backendDown) => item.Answer.TrySetResult(backendDown ? "unavailable" : "internal");
    }

    [Fact(Timeout = 60_000)]
    public async Task Items_that_gather_during_a_write_go_in_the_next_batch_within_the_weight_limit()
    {
        var gate = new TaskCompletionSource();
        int calls = 0;
        await using var writer = new Writer(async _ => { if (Interlocked.Increment(ref calls) == 1) await gate.Task; }, maxWeight: 10);
        var first = new Item(1);
        Assert.True(writer.TryEnqueue(first));
        await Until(() => Volatile.Read(ref calls) != 0, "the first write started");
        var waiting = Enumerable.Range(0, 25).Select(_ => new Item(1)).Append(new Item(30)).ToList();
        foreach (var item in waiting) Assert.True(writer.TryEnqueue(item));
        gate.SetResult();
        await Task.WhenAll(waiting.Select(i => i.Answer.Task)).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([1, 10, 10, 5, 30], writer.BatchWeights); // an item heavier than the limit still goes, alone
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_batch_answers_each_item_and_the_next_batch_is_written()
    {
        int calls = 0;
        await using var writer = new Writer(_ => Interlocked.Increment(ref calls) == 1
            ? throw new BackendUnavailableException("MariaDB: gone")
            : Task.CompletedTask, maxWeight: 100);
        var lost = new Item(1);
        writer.TryEnqueue(lost);
        Assert.Equal("unavailable", await lost.Answer.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        var later = new Item(1);
        writer.TryEnqueue(later);
        Assert.Equal("stored", await later.Answer.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_queue_refuses_and_disposing_writes_what_was_queued()
    {
        var gate = new TaskCompletionSource();
        var writer = new Writer(_ => gate.Task, maxWeight: 1, capacity: 2);
        var items = Enumerable.Range(0, 3).Select(_ => new Item(1)).ToList();
        Assert.True(writer.TryEnqueue(items[0]));
        await Until(() => writer.Queued == 0, "the first is being written");
        Assert.True(writer.TryEnqueue(items[1]));
        Assert.True(writer.TryEnqueue(items[2]));
        Assert.False(writer.TryEnqueue(new Item(1)));
        gate.SetResult();
        await writer.DisposeAsync();
        Assert.All(items, i => Assert.Equal("stored", i.Answer.Task.Result));
        Assert.False(writer.TryEnqueue(new Item(1)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Draining_stops_taking_answers_everything_queued_and_counts_it()
    {
        var gate = new TaskCompletionSource();
        int calls = 0;
        var writer = new Writer(async _ =>
        {
            await gate.Task;
            if (Interlocked.Increment(ref calls) == 2) throw new BackendUnavailableException("MariaDB: gone");
        }, maxWeight: 2);
        var items = Enumerable.Range(0, 5).Select(_ => new Item(1)).ToList();
        Assert.True(writer.TryEnqueue(items[0]));
        await Until(() => writer.Queued == 0, "the first is being written");
        foreach (var item in items.Skip(1)) Assert.True(writer.TryEnqueue(item));
        var drain = writer.DrainAsync();
        Assert.True(writer.IsStopping);
        Assert.False(writer.TryEnqueue(new Item(1))); // stopped taking, while the queued ones still wait
        gate.SetResult();
        var outcome = await drain.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        // Batches [0], [1, 2] (fails), [3, 4]: all five were waiting or being written when the stop began.
        Assert.Equal(new DrainOutcome(5, 2), outcome);
        Assert.Equal(["stored", "unavailable", "unavailable", "stored", "stored"], items.Select(i => i.Answer.Task.Result));
        Assert.Equal(3, writer.Written);
        Assert.Equal(2, writer.Failed);
        Assert.Equal(outcome, await writer.DrainAsync()); // a second stop (DisposeAsync) finds it done
        await writer.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Sends_racing_the_stop_are_either_refused_or_stored_and_answered()
    {
        for (int round = 0; round < 50; round++)
        {
            var writer = new Writer(_ => Task.CompletedTask, maxWeight: 100, capacity: 1_000_000);
            var accepted = new System.Collections.Concurrent.ConcurrentBag<Item>();
            using var go = new Barrier(5);
            var senders = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                go.SignalAndWait(Ct);
                for (int i = 0; i < 2_000; i++)
                {
                    var item = new Item(1);
                    if (writer.TryEnqueue(item)) accepted.Add(item);
                    else if (writer.IsStopping) return;
                }
            }, Ct)).ToArray();
            go.SignalAndWait(Ct);
            await writer.DrainAsync().WaitAsync(TimeSpan.FromSeconds(30), Ct);
            await Task.WhenAll(senders);
            // Everything accepted was answered by the time the stop completed: nothing slipped in behind the last look.
            Assert.All(accepted, item => Assert.True(item.Answer.Task.IsCompleted, "an accepted item was never answered"));
            Assert.Equal(accepted.Count, writer.Written);
        }
    }

    /// <summary>Polls <paramref name="condition"/>; a deadline (30 s, generous for a loaded box) turns a hang into a named failure.</summary>
    private static async Task Until(Func<bool> condition, string what)
    {
        long deadline = Environment.TickCount64 + 30_000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) Assert.Fail("not reached within 30 s: " + what);
            await Task.Delay(1, Ct);
        }
    }
}
