using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Messaging;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// A search indexer whose queue overflowed drops terms; once it keeps up again it reads the dropped span back from the
/// store and indexes it, so an overload leaves no permanent hole in search (it used to last until a restart, and a
/// restart's catch-up covers only what lies above the newest indexed id).
/// </summary>
public sealed class SearchIndexerRepairTests
{
    private sealed record Item(long Id);

    /// <summary>Everything added counts as stored; IndexAsync waits at the gate and then records what it indexed.</summary>
    private sealed class GatedIndexer(int capacity) : SearchIndexer<Item>(capacity, () => 0, "items", NullLogger.Instance)
    {
        public readonly ConcurrentDictionary<long, Item> Stored = new();
        public readonly ConcurrentDictionary<long, int> Indexed = new();
        public readonly TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource AllIndexed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Expected = int.MaxValue;

        public void Store(Item item)
        {
            Stored[item.Id] = item;
            Add(item);
        }

        protected override async Task IndexAsync(IReadOnlyList<Item> batch)
        {
            await Gate.Task;
            foreach (var item in batch) Indexed.AddOrUpdate(item.Id, 1, (_, n) => n + 1);
            if (Indexed.Count >= Volatile.Read(ref Expected)) AllIndexed.TrySetResult();
        }

        protected override Task<IReadOnlyList<Item>> UnindexedAsync(int limit) => Task.FromResult<IReadOnlyList<Item>>([]);

        protected override Task<IReadOnlyList<Item>> UnindexedBetweenAsync(long fromId, long toId, int limit) =>
            Task.FromResult<IReadOnlyList<Item>>([.. Stored.Values.Where(i => i.Id >= fromId && i.Id <= toId && !Indexed.ContainsKey(i.Id))
                .OrderBy(i => i.Id).Take(limit)]);

        protected override long IdOf(Item item) => item.Id;
    }

    [Fact(Timeout = 60_000)]
    public async Task Terms_dropped_by_a_full_queue_are_indexed_once_the_indexer_keeps_up_again()
    {
        await using var indexer = new GatedIndexer(capacity: 4);
        const int Count = 40;
        for (long id = 1; id <= Count; id++) indexer.Store(new Item(id));
        Assert.True(indexer.Dropped > 0, "the queue of 4 should have overflowed while the store was held");

        Volatile.Write(ref indexer.Expected, Count);
        indexer.Gate.SetResult();
        try
        {
            await indexer.AllIndexed.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"indexed {indexer.Indexed.Count} of {Count}; dropped {indexer.Dropped}, repaired {indexer.Repaired}, queued {indexer.Queued}, batches {indexer.Batches}, repair {indexer.RepairTask.Status}");
        }
        await indexer.RepairTask.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(1, Count).Select(i => (long)i), indexer.Indexed.Keys.Order());
        Assert.Equal(indexer.Dropped, indexer.Repaired);
    }
}
