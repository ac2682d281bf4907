using QkChat.Core.Groups;
using Xunit;
using static QkChat.IntegrationTests.Groups.GroupStoreHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// Writers racing on the same groups: batches spanning groups in different orders, and members removed while they
/// send. Seqs stay gapless and a removed member's entries never come after their removal.
/// </summary>
public sealed class GroupConcurrencyTests
{
    [Fact(Timeout = 60_000)]
    public async Task Concurrent_batches_spanning_groups_in_different_orders_all_store_with_gapless_seqs()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(20);
        long[] groups = [.. await Task.WhenAll(Enumerable.Range(0, 4).Select(i => h.GroupAsync(u[i], [.. u.Where(x => x != u[i])])))];
        const int Rounds = 5;

        // Each writer's batch names the groups in its own order (reversed for half of them): the store locks them in
        // ascending id whatever the order, so no two batches wait on each other in a cycle.
        var outcomes = await Task.WhenAll(u.Select((sender, w) => Task.Run(async () =>
        {
            var mine = new List<AppendOutcome>();
            var order = w % 2 == 0 ? groups : [.. groups.Reverse()];
            for (int r = 0; r < Rounds; r++)
                mine.AddRange(await h.Store.AppendAsync([.. order.SelectMany(g => new[] { h.Text(g, sender, $"{w}/{r}a"), h.Text(g, sender, $"{w}/{r}b") })], Ct));
            return mine;
        }, Ct)));

        Assert.All(outcomes.SelectMany(o => o), o => Assert.Equal(AppendResult.Stored, o.Result));
        foreach (long g in groups)
        {
            long max = await h.MaxSeqAsync(g);
            Assert.Equal(2 + u.Length * Rounds * 2, max);
            Assert.Equal(Enumerable.Range(1, (int)max).Select(s => (long)s), await h.SeqsAsync(g));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_member_removed_while_sending_has_no_entry_after_their_removal_entry()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(21);
        uint owner = u[0];
        var members = u[1..];
        long group = await h.GroupAsync(owner, members);
        var removedSet = members.Where((_, i) => i % 2 == 0).ToArray();

        var senders = members.Select(m => Task.Run(async () =>
        {
            var mine = new List<AppendOutcome>();
            for (int k = 0; k < 8; k++) mine.AddRange(await h.Store.AppendAsync([h.Text(group, m, $"{m} #{k}")], Ct));
            return (Member: m, Outcomes: mine);
        }, Ct)).ToArray();
        var removals = Task.Run(async () =>
        {
            var seqs = new Dictionary<uint, long>();
            foreach (uint r in removedSet)
            {
                var change = await h.Store.RemoveMemberAsync(group, owner, r, h.Stamp(), Ct);
                Assert.Equal(GroupChangeResult.Done, change.Result);
                seqs[r] = change.Entry!.Seq;
            }
            return seqs;
        }, Ct);
        var sent = await Task.WhenAll(senders);
        var removedAt = await removals;

        foreach (var (member, mine) in sent)
        {
            if (!removedAt.TryGetValue(member, out long removalSeq))
            {
                Assert.All(mine, o => Assert.Equal(AppendResult.Stored, o.Result));
                continue;
            }
            // Stored before the removal, refused after it: never a stored entry past the removal entry.
            Assert.All(mine.Where(o => o.Result == AppendResult.Stored), o => Assert.True(o.Seq < removalSeq, $"{o.Seq} after removal at {removalSeq}"));
            Assert.All(mine, o => Assert.Contains(o.Result, new[] { AppendResult.Stored, AppendResult.NotMember }));
            int stored = mine.Count(o => o.Result == AppendResult.Stored);
            Assert.All(mine.Skip(stored), o => Assert.Equal(AppendResult.NotMember, o.Result));
        }
        long max = await h.MaxSeqAsync(group);
        Assert.Equal(Enumerable.Range(1, (int)max).Select(s => (long)s), await h.SeqsAsync(group));
        // The owner's history agrees: every text entry of a removed member lies before their removal entry.
        var history = (await h.Store.SyncAsync(group, owner, 0, 500, Ct))!;
        Assert.Equal(max, history.Count);
        Assert.All(history.Where(e => e.Type == GroupEntryTypes.Text && removedAt.ContainsKey(e.SenderId)),
            e => Assert.True(e.Seq < removedAt[e.SenderId]));
    }
}
