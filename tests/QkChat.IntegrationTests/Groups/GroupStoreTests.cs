using QkChat.Core.Groups;
using Xunit;
using static QkChat.IntegrationTests.Groups.GroupStoreHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>issue 18 points 1-2, storage side: visibility by joined seq, unread rules, roles checked under the group's lock.</summary>
public sealed class GroupStoreTests
{
    [Fact(Timeout = 60_000)]
    public async Task Unread_counts_others_text_entries_after_read_seq_never_moves_back_and_leaves_out_recalled_ones()
    {
        await using var h = await StartAsync();
        var (alice, bob) = await UsersPairAsync(h);
        long group = await h.GroupAsync(alice, bob); // 1 created, 2 member_added (bob)
        Assert.Equal(0, (await h.SummaryAsync(bob, group)).UnreadCount);

        await h.Store.AppendAsync([h.Text(group, alice, "a1"), h.Text(group, alice, "a2"), h.Text(group, bob, "b1"), h.Text(group, alice, "a3")], Ct);
        var bobs = await h.SummaryAsync(bob, group);
        var alices = await h.SummaryAsync(alice, group);
        // Own entries are never unread, and sending moved each sender's read_seq to their newest entry (3-6: a1 a2 b1 a3),
        // so bob has a3 unread and alice nothing.
        Assert.Equal((6L, 1, 5L), (bobs.MaxSeq, bobs.UnreadCount, bobs.ReadSeq));
        Assert.Equal(0, alices.UnreadCount);
        Assert.Equal(6, alices.ReadSeq);
        Assert.Equal("a3", bobs.LastEntry!.Content);

        Assert.Equal(5, await h.Store.MarkReadAsync(group, bob, 4, Ct)); // a smaller seq changes nothing
        Assert.Equal(6, await h.Store.MarkReadAsync(group, bob, 99, Ct)); // never past max_seq
        Assert.Equal(6, await h.Store.MarkReadAsync(group, bob, 2, Ct));
        Assert.Equal(0, (await h.SummaryAsync(bob, group)).UnreadCount);

        var more = await h.Store.AppendAsync([h.Text(group, alice, "a4"), h.Text(group, alice, "a5")], Ct);
        Assert.Equal(2, (await h.SummaryAsync(bob, group)).UnreadCount);
        Assert.Equal(GroupRecallResult.Recalled, (await h.Store.RecallAsync(group, more[0].Seq, alice, Now, Ct)).Result);
        Assert.Equal(1, (await h.SummaryAsync(bob, group)).UnreadCount);
        // A recalled entry keeps its seq, without content; a second recall changes nothing.
        var recalled = (await h.Store.SyncAsync(group, bob, more[0].Seq - 1, 1, Ct))!.Single();
        Assert.Equal((more[0].Seq, true, ""), (recalled.Seq, recalled.Recalled, recalled.Content));
        Assert.Equal(GroupRecallResult.AlreadyRecalled, (await h.Store.RecallAsync(group, more[0].Seq, alice, Now, Ct)).Result);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_member_added_mid_history_sees_from_their_entry_on_and_can_reach_zero_unread()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(3);
        long group = await h.GroupAsync(u[0], u[1]);
        await h.Store.AppendAsync([h.Text(group, u[0], "before 1"), h.Text(group, u[1], "before 2")], Ct); // 3, 4
        var added = await h.Store.AddMembersAsync(group, u[0], [u[2], u[1]], 1024, h.Stamp(), Ct);
        Assert.Equal((GroupChangeResult.Done, 5L), (added.Result, added.Entry!.Seq));
        Assert.Equal([u[2]], added.Added);
        Assert.Equal([u[1]], added.Already);
        var after = await h.Store.AppendAsync([h.Text(group, u[0], "after")], Ct); // 6

        var history = (await h.Store.HistoryAsync(group, u[2], null, 50, Ct))!;
        Assert.Equal([6L, 5], history.Select(e => e.Seq));
        Assert.Equal((GroupEntryTypes.System, GroupEntryTypes.MemberAdded), (history[1].Type, history[1].Event));
        Assert.Equal([u[2]], history[1].UserIds);
        Assert.Empty((await h.Store.HistoryAsync(group, u[2], 5, 50, Ct))!);
        Assert.Equal([5L, 6], (await h.Store.SyncAsync(group, u[2], 0, 100, Ct))!.Select(e => e.Seq));
        Assert.Equal([5L, 6], (await h.Store.SyncAsync(group, u[2], 3, 100, Ct))!.Select(e => e.Seq));
        Assert.Equal(6, (await h.Store.HistoryAsync(group, u[0], null, 50, Ct))!.Count); // the owner, from `created` on
        Assert.Equal(5, (await h.Store.HistoryAsync(group, u[1], null, 50, Ct))!.Count); // from their member_added (2) on

        var summary = await h.SummaryAsync(u[2], group);
        Assert.Equal((1, 5L), (summary.UnreadCount, summary.ReadSeq));
        Assert.Equal(after[0].Seq, await h.Store.MarkReadAsync(group, u[2], after[0].Seq, Ct));
        Assert.Equal(0, (await h.SummaryAsync(u[2], group)).UnreadCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_removed_member_reads_nothing_and_roles_are_checked_in_the_changing_transaction()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(5);
        uint owner = u[0], admin = u[1], admin2 = u[2], member = u[3], stranger = u[4];
        long group = await h.GroupAsync(owner, admin, admin2, member);
        Assert.Equal(GroupChangeResult.Done, (await h.Store.SetRoleAsync(group, owner, admin, GroupRole.Admin, h.Stamp(), Ct)).Result);
        Assert.Equal(GroupChangeResult.Done, (await h.Store.SetRoleAsync(group, owner, admin2, GroupRole.Admin, h.Stamp(), Ct)).Result);
        Assert.Equal(GroupChangeResult.Unchanged, (await h.Store.SetRoleAsync(group, owner, admin2, GroupRole.Admin, h.Stamp(), Ct)).Result);
        Assert.Equal(GroupChangeResult.Forbidden, (await h.Store.SetRoleAsync(group, admin, member, GroupRole.Admin, h.Stamp(), Ct)).Result);

        // Admins cannot remove admins; non-members find nothing; the owner may not leave while others remain.
        Assert.Equal(GroupChangeResult.Forbidden, (await h.Store.RemoveMemberAsync(group, admin, admin2, h.Stamp(), Ct)).Result);
        Assert.Equal(GroupChangeResult.NotFound, (await h.Store.RemoveMemberAsync(group, stranger, member, h.Stamp(), Ct)).Result);
        Assert.Equal(GroupChangeResult.Forbidden, (await h.Store.LeaveAsync(group, owner, h.Stamp(), Ct)).Result);
        Assert.Null(await h.Store.InfoAsync(group, stranger, Ct));
        Assert.Null(await h.Store.HistoryAsync(group, stranger, null, 10, Ct));

        var removed = await h.Store.RemoveMemberAsync(group, admin, member, h.Stamp(), Ct);
        Assert.Equal((GroupChangeResult.Done, GroupEntryTypes.MemberRemoved), (removed.Result, removed.Entry!.Event));
        Assert.Equal(AppendResult.NotMember, (await h.Store.AppendAsync([h.Text(group, member, "still here?")], Ct))[0].Result);
        Assert.Null(await h.Store.SyncAsync(group, member, 0, 10, Ct));
        Assert.Null(await h.Store.MarkReadAsync(group, member, 1, Ct));
        Assert.DoesNotContain(await h.Store.MyGroupsAsync(member, Ct), s => s.GroupId == group);

        // Over the cap nobody is added; an earlier member comes back from their new entry on.
        Assert.Equal(GroupChangeResult.OverCap, (await h.Store.AddMembersAsync(group, owner, [member, stranger], 4, h.Stamp(), Ct)).Result);
        var back = await h.Store.AddMembersAsync(group, admin, [member], 4, h.Stamp(), Ct);
        Assert.Equal(GroupChangeResult.Done, back.Result);
        Assert.Equal([back.Entry!.Seq], (await h.Store.HistoryAsync(group, member, null, 10, Ct))!.Select(e => e.Seq));

        var transferred = await h.Store.TransferOwnerAsync(group, owner, admin, h.Stamp(), Ct);
        Assert.Equal(GroupChangeResult.Done, transferred.Result);
        Assert.Equal(admin, (await h.Store.InfoAsync(group, member, Ct))!.OwnerId);
        var page1 = (await h.Store.MembersAsync(group, member, null, 2, Ct))!;
        var page2 = (await h.Store.MembersAsync(group, member, page1.Members[^1].UserId, 2, Ct))!;
        Assert.True(page1.HasMore);
        Assert.False(page2.HasMore);
        Assert.Equal([owner, admin, admin2, member], page1.Members.Concat(page2.Members).Select(m => m.UserId));
        Assert.Equal([GroupRole.Admin, GroupRole.Owner, GroupRole.Admin, GroupRole.Member], page1.Members.Concat(page2.Members).Select(m => m.Role));

        Assert.Equal(GroupChangeResult.Done, (await h.Store.RenameAsync(group, owner, "renamed", h.Stamp(), Ct)).Result);
        Assert.Equal("renamed", (await h.Store.InfoAsync(group, member, Ct))!.Name);
        Assert.Equal(GroupChangeResult.Forbidden, (await h.Store.DissolveAsync(group, owner, Now, Ct)).Result);
        var dissolved = await h.Store.DissolveAsync(group, admin, Now, Ct);
        Assert.Equal([owner, admin, admin2, member], dissolved.Members);
        Assert.Null(await h.Store.InfoAsync(group, admin, Ct));
        Assert.Empty(await h.Store.MemberIdsAsync(group, Ct));

        // Seqs stayed gapless through every action.
        long max = await h.MaxSeqAsync(group);
        Assert.Equal(Enumerable.Range(1, (int)max).Select(s => (long)s), await h.SeqsAsync(group));
    }

    [Fact(Timeout = 60_000)]
    public async Task Recall_is_for_the_sender_within_the_window_or_for_owner_and_admins_and_never_for_system_entries()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(3);
        long group = await h.GroupAsync(u[0], u[1], u[2]);
        long old = Now - GroupRules.RecallWindowMs - 1;
        var entries = await h.Store.AppendAsync(
            [new NewGroupEntry(group, u[1], h.NextMessageId(), null, "old", old), h.Text(group, u[1], "fresh"), h.Text(group, u[2], "other")], Ct);

        Assert.Equal(GroupRecallResult.WindowExpired, (await h.Store.RecallAsync(group, entries[0].Seq, u[1], Now, Ct)).Result);
        Assert.Equal(GroupRecallResult.Forbidden, (await h.Store.RecallAsync(group, entries[2].Seq, u[1], Now, Ct)).Result);
        Assert.Equal(GroupRecallResult.NotFound, (await h.Store.RecallAsync(group, 1, u[0], Now, Ct)).Result);
        var own = await h.Store.RecallAsync(group, entries[1].Seq, u[1], Now, Ct);
        Assert.Equal((GroupRecallResult.Recalled, 3), (own.Result, own.Members.Count));
        Assert.Equal(GroupRecallResult.Recalled, (await h.Store.RecallAsync(group, entries[0].Seq, u[0], Now, Ct)).Result);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_owner_leaving_as_the_last_member_dissolves_the_group_and_a_member_leaving_writes_member_left()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(2);
        long group = await h.GroupAsync(u[0], u[1]);
        var left = await h.Store.LeaveAsync(group, u[1], h.Stamp(), Ct);
        Assert.Equal((GroupChangeResult.Done, GroupEntryTypes.MemberLeft, 3L), (left.Result, left.Entry!.Event, left.Entry.Seq));
        Assert.Equal(1, (await h.Store.InfoAsync(group, u[0], Ct))!.MemberCount);
        Assert.Equal(GroupChangeResult.NotFound, (await h.Store.LeaveAsync(group, u[1], h.Stamp(), Ct)).Result);

        Assert.Equal(GroupChangeResult.Dissolved, (await h.Store.LeaveAsync(group, u[0], h.Stamp(), Ct)).Result);
        Assert.Null(await h.Store.InfoAsync(group, u[0], Ct));
        Assert.Empty(await h.Store.MyGroupsAsync(u[0], Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task My_groups_count_each_groups_unread_from_its_own_bound()
    {
        await using var h = await StartAsync();
        var u = await h.UsersAsync(2);
        long quiet = await h.GroupAsync(u[0], u[1]);
        long two = await h.GroupAsync(u[0], u[1]);
        long five = await h.GroupAsync(u[1], u[0]);
        await h.Store.AppendAsync([.. Enumerable.Range(0, 2).Select(i => h.Text(two, u[1], "t" + i)),
            .. Enumerable.Range(0, 5).Select(i => h.Text(five, u[1], "f" + i)), h.Text(quiet, u[0], "mine")], Ct);
        await h.Store.MarkReadAsync(five, u[0], 4, Ct); // f0 and f1 (seqs 3, 4) read

        var mine = (await h.Store.MyGroupsAsync(u[0], Ct)).ToDictionary(s => s.GroupId, s => s.UnreadCount);
        Assert.Equal(new Dictionary<long, int> { [quiet] = 0, [two] = 2, [five] = 3 }, mine);
        var bobs = (await h.Store.MyGroupsAsync(u[1], Ct)).ToDictionary(s => s.GroupId, s => s.UnreadCount);
        Assert.Equal(new Dictionary<long, int> { [quiet] = 1, [two] = 0, [five] = 0 }, bobs);
    }

    private static async Task<(uint, uint)> UsersPairAsync(GroupStoreHarness h)
    {
        var u = await h.UsersAsync(2);
        return (u[0], u[1]);
    }
}
