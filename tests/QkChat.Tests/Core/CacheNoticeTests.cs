using QkChat.Core.Friends;
using QkChat.Core.Groups;
using QkChat.Core.Routing;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The caches' side of cross-node invalidation (docs/cluster.md, "Caches"): a change made here is told through
/// <see cref="ICacheNotices"/>; a notice from another node (Drop) makes the next read go to the store and tells nobody.
/// </summary>
public sealed class CacheNoticeTests
{
    private sealed class Recorder : ICacheNotices
    {
        public readonly List<(CachedRelation, long, long)> Seen = [];

        public Task Changed(CachedRelation relation, long first, long second)
        {
            Seen.Add((relation, first, second));
            return Task.CompletedTask;
        }
    }

    private sealed class Friends : IFriendLookup, IBlockLookup
    {
        public List<uint> Current = [2];
        public int Calls;

        public Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) => Task.FromResult(Current.Contains(otherId));

        public Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct)
        {
            Calls++;
            return Task.FromResult<IReadOnlyList<uint>>([.. Current]);
        }

        public Task<IReadOnlyList<uint>> BlockedWithAsync(uint userId, CancellationToken ct) => FriendIdsAsync(userId, ct);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_friendship_or_block_changed_here_is_told_and_one_changed_elsewhere_is_dropped_quietly()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new Friends();
        var recorder = new Recorder();
        var friends = new FriendSetCache(store) { Notices = recorder };
        var blocks = new BlockSetCache(store) { Notices = recorder };
        Assert.True(await friends.AreFriendsAsync(1, 2, ct));
        Assert.True(await blocks.IsBlockedAsync(1, 2, ct));

        store.Current = [];
        Assert.True(await friends.AreFriendsAsync(1, 2, ct)); // cached
        friends.Drop(1, 2); // another node's notice
        Assert.False(await friends.AreFriendsAsync(1, 2, ct));
        Assert.Empty(recorder.Seen);

        await blocks.Invalidate(2, 1); // a change made here
        Assert.False(await blocks.IsBlockedAsync(1, 2, ct));
        Assert.Equal([(CachedRelation.Blocks, 2L, 1L)], recorder.Seen);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_group_change_here_is_told_at_its_end_and_a_drop_makes_the_next_read_load()
    {
        var ct = TestContext.Current.CancellationToken;
        int calls = 0;
        uint[] members = [1, 2];
        var cache = new GroupMemberCache((_, _) =>
        {
            calls++;
            return Task.FromResult(new GroupMembership(members, [.. members.Select(_ => GroupRole.Member)], [.. members.Select(_ => 1L)]));
        });
        var recorder = new Recorder();
        cache.Notices = recorder;
        await cache.MembersAsync(7, ct);
        members = [1];
        cache.Drop(7);
        Assert.Equal(new uint[] { 1 }, (await cache.MembersAsync(7, ct)).UserIds);
        Assert.Equal(2, calls);
        Assert.Empty(recorder.Seen);

        cache.BeginChange(7);
        Assert.Empty(recorder.Seen);
        await cache.EndChange(7);
        Assert.Equal([(CachedRelation.GroupMembers, 7L, 0L)], recorder.Seen);
    }
}
