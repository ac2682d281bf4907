using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Friends;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Server.Friends;
using Xunit;
using static QkChat.IntegrationTests.Groups.GroupStoreHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// What a node's group push order reads back into a gap (docs/cluster.md, "Group order"), from the real timeline in
/// MariaDB: each entry's push as its first push was, to the members as they are now. A member added later does not
/// get what came before their joined seq; a removed member gets its removal event and nothing else; a recalled entry
/// comes recalled.
/// </summary>
public sealed class GroupGapSourceTests
{
    [Fact(Timeout = 60_000)]
    public async Task Gap_entries_go_to_the_members_who_get_each_seq_with_the_push_it_had()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(4);
        long group = await h.GroupAsync(u[0], u[1], u[2]);                                                 // 1 created, 2 member_added
        Assert.Equal(3, (await h.Store.AppendAsync([h.Text(group, u[1], "three")], Ct))[0].Seq);
        Assert.Equal(4, (await h.Store.AppendAsync([h.Text(group, u[0], "four")], Ct))[0].Seq);
        Assert.Equal(5, (await h.Store.RemoveMemberAsync(group, u[0], u[2], h.Stamp(), Ct)).Entry!.Seq);   // member_removed
        Assert.Equal(6, (await h.Store.AddMembersAsync(group, u[0], [u[3]], 1024, h.Stamp(), Ct)).Entry!.Seq); // member_added
        Assert.Equal(7, (await h.Store.AppendAsync([h.Text(group, u[3], "seven")], Ct))[0].Seq);
        Assert.Equal(GroupRecallResult.Recalled, (await h.Store.RecallAsync(group, 3, u[1], Now, Ct)).Result);

        var groups = new GroupService(new GroupOptions(), new MessagingOptions(), h.Store, new MessageIds(),
            new FriendSetCache(new MySqlFriendStore(h.Db.DataSource)), new LocalDelivery(new LiveSessions()), new PresenceTracker(),
            NullLogger.Instance);
        await using var _ = groups;
        IGroupGapSource source = groups;

        var gap = await source.EntriesAsync(group, 2, 8, Ct);
        Assert.Equal([3L, 4, 5, 6, 7], gap.Select(e => e.Seq));
        uint[] both = [u[0], u[1]];
        Assert.Equal(both, gap[0].Users);                  // u[3] joined at 6: not before
        Assert.Equal(both, gap[1].Users);
        Assert.Equal([u[0], u[1], u[2]], gap[2].Users);     // the removed member is told of its removal
        Assert.Equal([u[0], u[1], u[3]], gap[3].Users);     // the added member from its joined seq on
        Assert.Equal([u[0], u[1], u[3]], gap[4].Users);
        string Body(int i) => Encoding.UTF8.GetString(gap[i].Frame.Memory.Span);
        Assert.Contains("\"group_message\"", Body(0));
        Assert.Contains("\"recalled\":true", Body(0));
        Assert.DoesNotContain("three", Body(0));
        Assert.Contains("\"four\"", Body(1));
        Assert.Contains("\"group_event\"", Body(2));
        Assert.Contains("\"member_removed\"", Body(2));
        Assert.Contains("\"member_added\"", Body(3));
        Assert.Contains("\"seven\"", Body(4));
        foreach (var e in gap) e.Frame.Release();

        // Only what lies strictly between the two seqs.
        Assert.Equal([5L, 6], (await source.EntriesAsync(group, 4, 7, Ct)).Select(e => { e.Frame.Release(); return e.Seq; }));
        Assert.Empty(await source.EntriesAsync(group, 4, 5, Ct));
    }
}
