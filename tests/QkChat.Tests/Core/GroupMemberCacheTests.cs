using QkChat.Core.Groups;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The fan-out's membership cache: a read during a membership change never uses or keeps what was read before it, and
/// a load that overlapped a change is not kept (docs/storage.md "Above the store").
/// </summary>
public sealed class GroupMemberCacheTests
{
    private static GroupMembership Of(params uint[] ids) => new(ids, [.. ids.Select(_ => GroupRole.Member)], [.. ids.Select(_ => 1L)]);

    /// <summary>A loader that answers from <see cref="Current"/> and counts its calls; <see cref="Gate"/> can hold it.</summary>
    private sealed class Loader
    {
        public GroupMembership Current = Of(1, 2);
        public int Calls;
        public TaskCompletionSource? Gate;

        public async Task<GroupMembership> LoadAsync(long groupId, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            var seen = Current;
            if (Gate is { } gate) await gate.Task;
            return seen;
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_group_is_read_once_and_then_served_from_memory()
    {
        var loader = new Loader();
        var cache = new GroupMemberCache(loader.LoadAsync);
        Assert.Equal(new uint[] { 1, 2 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(new uint[] { 1, 2 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(1, loader.Calls);
    }

    [Fact(Timeout = 60_000)]
    public async Task During_a_change_every_read_goes_to_the_store_and_after_it_the_new_members_are_read()
    {
        var loader = new Loader();
        var cache = new GroupMemberCache(loader.LoadAsync);
        await cache.MembersAsync(7, TestContext.Current.CancellationToken);
        cache.BeginChange(7);
        loader.Current = Of(1);
        Assert.Equal(new uint[] { 1 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(new uint[] { 1 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(3, loader.Calls);
        await cache.EndChange(7);
        Assert.Equal(new uint[] { 1 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(new uint[] { 1 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(4, loader.Calls);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_load_that_overlapped_a_change_is_answered_but_not_kept()
    {
        var loader = new Loader { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var cache = new GroupMemberCache(loader.LoadAsync);
        var stale = cache.MembersAsync(7, TestContext.Current.CancellationToken).AsTask(); // reads {1, 2}, held at the gate
        cache.BeginChange(7);
        loader.Current = Of(1);
        await cache.EndChange(7);
        loader.Gate.SetResult();
        Assert.Equal(new uint[] { 1, 2 }, (await stale).UserIds);
        loader.Gate = null;
        Assert.Equal(new uint[] { 1 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
    }

    [Fact(Timeout = 60_000)]
    public async Task Past_its_bound_the_cache_forgets_idle_groups_but_not_one_in_a_change()
    {
        var loader = new Loader();
        var cache = new GroupMemberCache(loader.LoadAsync, maxGroups: 2);
        await cache.MembersAsync(1, TestContext.Current.CancellationToken);
        cache.BeginChange(2);
        await cache.MembersAsync(3, TestContext.Current.CancellationToken);
        Assert.True(cache.Count <= 2);
        // Group 2's change is still under way: its reads still go to the store.
        int calls = loader.Calls;
        await cache.MembersAsync(2, TestContext.Current.CancellationToken);
        await cache.MembersAsync(2, TestContext.Current.CancellationToken);
        Assert.Equal(calls + 2, loader.Calls);
        await cache.EndChange(2);
    }

    /// <summary>Loads many groups at once, answering group g with members {g, g + 1}; counts its calls and the groups asked for.</summary>
    private sealed class ManyLoader
    {
        public int Calls;
        public List<long> Asked = [];
        public TaskCompletionSource? Gate;

        public async Task<IReadOnlyDictionary<long, GroupMembership>> LoadAsync(IReadOnlyList<long> groups, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            lock (Asked) Asked.AddRange(groups);
            if (Gate is { } gate) await gate.Task;
            // Group 99 has no current members: the store leaves it out of its answer.
            return groups.Where(g => g != 99).ToDictionary(g => g, g => Of((uint)g, (uint)g + 1));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_batch_of_groups_reads_every_group_it_misses_with_one_load_and_keeps_them()
    {
        var single = new Loader();
        var many = new ManyLoader();
        var cache = new GroupMemberCache(single.LoadAsync, loadMany: many.LoadAsync);
        await cache.MembersAsync(5, TestContext.Current.CancellationToken); // cached {1, 2} through the single load

        var found = new Dictionary<long, GroupMembership>();
        await cache.MembersOfAsync([5, 6, 7, 6, 99], found, TestContext.Current.CancellationToken);
        Assert.Equal((1, 1), (single.Calls, many.Calls));
        Assert.Equal(new long[] { 6, 7, 99 }, many.Asked);
        Assert.Equal(new uint[] { 1, 2 }, found[5].UserIds);
        Assert.Equal(new uint[] { 6, 7 }, found[6].UserIds);
        Assert.Equal(0, found[99].Count);

        // All kept: the next batch, and a single read, cost no load.
        found.Clear();
        await cache.MembersOfAsync([6, 7], found, TestContext.Current.CancellationToken);
        Assert.Equal(new uint[] { 7, 8 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal((1, 1), (single.Calls, many.Calls));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_group_whose_change_overlapped_the_batch_load_is_answered_but_not_kept()
    {
        var single = new Loader { Current = Of(42) };
        var many = new ManyLoader { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var cache = new GroupMemberCache(single.LoadAsync, loadMany: many.LoadAsync);
        var found = new Dictionary<long, GroupMembership>();
        var load = cache.MembersOfAsync([6, 7], found, TestContext.Current.CancellationToken);
        cache.BeginChange(7);
        await cache.EndChange(7);
        many.Gate.SetResult();
        await load;
        Assert.Equal(new uint[] { 7, 8 }, found[7].UserIds);

        // Group 6 was kept; group 7 is read again (from the single load, which now answers {42}).
        Assert.Equal(new uint[] { 6, 7 }, (await cache.MembersAsync(6, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(new uint[] { 42 }, (await cache.MembersAsync(7, TestContext.Current.CancellationToken)).UserIds);
        Assert.Equal(1, single.Calls);
    }

    [Fact]
    public void An_entry_reaches_the_members_who_joined_at_or_before_it()
    {
        var members = new GroupMembership([10, 20, 30], [GroupRole.Owner, GroupRole.Member, GroupRole.Member], [1, 2, 9]);
        Assert.Equal([10u, 20u], members.ReceiversOf(5));
        Assert.Equal([10u, 20u, 30u], members.ReceiversOf(9));
        Assert.Same(members.UserIds, members.ReceiversOf(12));
        Assert.Equal(GroupRole.Owner, members.RoleOf(10));
        Assert.Null(members.RoleOf(11));
    }
}
