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
