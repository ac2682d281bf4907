using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using Xunit;
using static QkChat.IntegrationTests.Groups.GroupStoreHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// Several group writers (group.writers, <see cref="GroupWriters"/>) on the real store: groups sharded by id, each
/// writer with its own batches and connection, all writing at once into groups whose members overlap (the same users'
/// rows in groups of different writers). Every group's seqs stay 1..N without gap or repeat, each sender's entries
/// keep its order within a group, a resent client_msg_id is answered with the first entry, and MariaDB reports no
/// deadlock (the store would retry one silently; it counts them).
/// </summary>
public sealed class GroupWritersTests
{
    private sealed class Probe(NewGroupEntry entry) : QueuedGroupEntry(entry)
    {
        public TaskCompletionSource<AppendOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Stored(AppendOutcome outcome, GroupMembership? members) => Outcome.TrySetResult(outcome);

        public override void Failed(bool backendDown) => Outcome.TrySetException(new InvalidOperationException($"batch failed (backend down: {backendDown})"));
    }

    [Fact(Timeout = 180_000)] // 24 groups x 5 senders x 12 entries through two writers on a loaded 2-core box
    public async Task Two_writers_under_concurrent_load_into_many_groups_give_every_group_seqs_one_to_n_without_deadlock()
    {
        await using var h = await StartAsync();
        var users = await h.UsersAsync(30);
        const int Groups = 24, Size = 5, PerSender = 12;
        // Group k: users 3k .. 3k+4 (mod 30): each user is in about five groups, spread over both writers.
        var memberSets = Enumerable.Range(0, Groups).Select(k => Enumerable.Range(0, Size).Select(j => users[(3 * k + j) % users.Length]).ToArray()).ToArray();
        long[] groups = new long[Groups];
        for (int k = 0; k < Groups; k++) groups[k] = await h.GroupAsync(memberSets[k][0], memberSets[k][1..]);

        var cache = new GroupMemberCache(h.Store.MembershipAsync, loadMany: h.Store.MembershipsAsync);
        // Small batches (20): many batches per writer, so the two writers' transactions overlap all the time.
        var options = new MessagingOptions { BatchSize = 20 };
        await using var indexer = new GroupSearchIndexer(h.Store, 100_000, () => 0, NullLogger.Instance);
        var writers = new GroupWriters(2, h.Store, cache, options, indexer, NullLogger.Instance);
        await using (writers)
        {
            Assert.Contains(groups, g => writers.For(g) == writers.Shards[0]);
            Assert.Contains(groups, g => writers.For(g) == writers.Shards[1]);

            // One task per (group, sender) enqueues its entries back to back, then resends its first client_msg_id.
            var sends = groups.SelectMany((g, k) => memberSets[k].Select(sender => Task.Run(async () =>
            {
                var mine = new List<Probe>();
                for (int n = 0; n < PerSender; n++)
                {
                    var probe = new Probe(h.Text(g, sender, $"{sender} #{n} in {g}", $"c-{g}-{sender}-{n}"));
                    Assert.True(writers.TryEnqueue(probe));
                    mine.Add(probe);
                }
                var resend = new Probe(h.Text(g, sender, "again", $"c-{g}-{sender}-0"));
                Assert.True(writers.TryEnqueue(resend));
                var outcomes = await Task.WhenAll(mine.Select(p => p.Outcome.Task));
                return (Group: g, Outcomes: outcomes, Resend: await resend.Outcome.Task);
            }, Ct))).ToArray();
            var results = await Task.WhenAll(sends);

            foreach (var (group, outcomes, resend) in results)
            {
                Assert.All(outcomes, o => Assert.Equal(AppendResult.Stored, o.Result));
                // The group's writer took this sender's entries in queue order: rising seqs.
                Assert.Equal(outcomes.Select(o => o.Seq).Order(), outcomes.Select(o => o.Seq));
                Assert.Equal(AppendResult.Duplicate, resend.Result);
                Assert.Equal(outcomes[0].Seq, resend.Seq);
                Assert.Equal(outcomes[0].MessageId, resend.MessageId);
            }
            Assert.Equal(0, writers.Failed);
            Assert.All(writers.Shards, w => Assert.True(w.Batches > 0, "each writer stored batches"));
        }

        Assert.Equal(0, h.Store.AppendDeadlocks);
        foreach (long g in groups)
        {
            long max = await h.MaxSeqAsync(g);
            Assert.Equal(2 + Size * PerSender, max); // created, member_added, then the texts
            Assert.Equal(Enumerable.Range(1, (int)max).Select(s => (long)s), await h.SeqsAsync(g));
        }
    }

    /// <summary>
    /// At a crash, one writer's committed batch can be unindexed below another writer's indexed, newer ids: the start's
    /// catch-up looks back (GroupSearchIndexer.CatchUpLookback) and indexes it, and an entry without terms after the
    /// newest indexed one is read once, not forever (the old catch-up read above MAX(indexed) again and again).
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_start_indexes_an_entry_left_unindexed_below_a_newer_indexed_one()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(2);
        long g1 = await h.GroupAsync(u[0], u[1]), g2 = await h.GroupAsync(u[1], u[0]);
        var older = h.Text(g1, u[0], "slower writer's batch");
        var newer = h.Text(g2, u[1], "faster writer's batch");
        var termless = h.Text(g2, u[1], "!!!");
        Assert.All(await h.Store.AppendAsync([older], Ct), o => Assert.Equal(AppendResult.Stored, o.Result));
        var stored = await h.Store.AppendAsync([newer, termless], Ct);
        // Only the newer one was indexed before the "crash".
        await h.Store.IndexAsync([new IndexedGroupEntry(newer.MessageId, g2, stored[0].Seq, newer.Content)], Ct);

        await using var indexer = new GroupSearchIndexer(h.Store, 1000, () => 0, NullLogger.Instance);
        await indexer.CatchUpAsync();

        Assert.Equal(1, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM chat_group_search WHERE message_id = {older.MessageId}"));
        Assert.Equal(2, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM chat_group_search"));
    }
}
