using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Groups.GroupKit;

namespace QkChat.IntegrationTests.Groups;

/// <summary>Unread counts, mark_group_read and recall (protocol.md §9), through the real server.</summary>
public sealed class GroupReadTests
{
    [Fact(Timeout = 60_000)]
    public async Task Unread_counts_others_text_entries_after_my_read_seq_and_read_seq_never_moves_back()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync(devices: 2);
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "unread", b);
        long s3 = await SendOk(a.Device, group, "one");
        long s4 = await SendOk(a.Device, group, "two");
        long s5 = await SendOk(a.Device, group, "three");

        // My own entries are never unread, on this device or one that signs in later; system entries never count.
        Assert.Equal(0, (await MyGroupAsync(a.Device, group))!.Value.GetProperty("unread_count").GetInt32());
        var aLater = await h.LoginAsync(a.Name, "laptop");
        var mineLater = (await MyGroupAsync(aLater, group))!.Value;
        Assert.Equal((0, s5), (mineLater.GetProperty("unread_count").GetInt32(), mineLater.GetProperty("read_seq").GetInt64()));
        Assert.Equal(3, (await MyGroupAsync(b.Device, group))!.Value.GetProperty("unread_count").GetInt32());

        // mark_group_read moves read_seq and tells my other device, not this one.
        Assert.Equal(s4, (await Ok(MarkRead(b.Devices[0], group, s4))).GetProperty("read_seq").GetInt64());
        var told = (await Push(b.Devices[1], "group_read")).Data!.Value;
        Assert.Equal((group, s4), (told.GetProperty("group_id").GetInt64(), told.GetProperty("read_seq").GetInt64()));
        await NoPush(b.Devices[0], "group_read");
        Assert.Equal(1, (await MyGroupAsync(b.Device, group))!.Value.GetProperty("unread_count").GetInt32());

        // A late mark with a smaller seq changes nothing; one past the newest entry stops at it.
        Assert.Equal(s4, (await Ok(MarkRead(b.Devices[1], group, s3))).GetProperty("read_seq").GetInt64());
        Assert.Equal(s4, (await MyGroupAsync(b.Device, group))!.Value.GetProperty("read_seq").GetInt64());
        Assert.Equal(s5, (await Ok(MarkRead(b.Devices[1], group, 1_000_000))).GetProperty("read_seq").GetInt64());
        Assert.Equal(0, (await MyGroupAsync(b.Device, group))!.Value.GetProperty("unread_count").GetInt32());

        // Sending moves the sender's read_seq to the entry: b's reply leaves b nothing unread, a one.
        long s6 = await SendOk(b.Device, group, "reply");
        var bGroup = (await MyGroupAsync(b.Device, group))!.Value;
        Assert.Equal((0, s6), (bGroup.GetProperty("unread_count").GetInt32(), bGroup.GetProperty("read_seq").GetInt64()));
        var aGroup = (await MyGroupAsync(a.Device, group))!.Value;
        Assert.Equal(1, aGroup.GetProperty("unread_count").GetInt32());
        Assert.Equal(s6, aGroup.GetProperty("last_message").GetProperty("seq").GetInt64());
        Assert.Equal("reply", aGroup.GetProperty("last_message").GetProperty("content").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_new_member_reaches_zero_unread_and_recalled_entries_leave_the_count()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        var late = await h.MemberAsync();
        await h.BefriendAllAsync(a, b, late);
        long group = await CreateAsync(a, "late reader", b);
        for (int i = 0; i < 5; i++) await SendOk(b.Device, group, "before " + i);
        await Ok(Add(a.Device, group, late.Id));
        var joined = (await MyGroupAsync(late.Device, group))!.Value;
        Assert.Equal(0, joined.GetProperty("unread_count").GetInt32());

        long x = await SendOk(b.Device, group, "x");
        long y = await SendOk(b.Device, group, "y");
        Assert.Equal(2, (await MyGroupAsync(late.Device, group))!.Value.GetProperty("unread_count").GetInt32());
        await Ok(Act(b.Device, "recall_group_message", group, w => w.WriteNumber("seq", x)));
        Assert.Equal(1, (await MyGroupAsync(late.Device, group))!.Value.GetProperty("unread_count").GetInt32());
        await Ok(MarkRead(late.Device, group, y));
        Assert.Equal(0, (await MyGroupAsync(late.Device, group))!.Value.GetProperty("unread_count").GetInt32());
    }

    [Fact(Timeout = 60_000)]
    public async Task Groups_are_in_get_conversations_by_recency_and_in_get_unread_counts()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        await h.BefriendAllAsync(a, b);
        long direct = await ChatHarness.SendOk(b.Device, a.Id, "direct hi");
        long group = await CreateAsync(a, "in the list", b);
        long seq = await GroupKit.SendOk(b.Device, group, "group hi");

        var list = (await Ok(a.Device.RequestAsync("get_conversations"))).GetProperty("conversations").EnumerateArray().ToList();
        Assert.Equal(new[] { "group", "direct" }, list.Select(c => c.GetProperty("kind").GetString()).ToArray());
        Assert.Equal(group, list[0].GetProperty("group_id").GetInt64());
        Assert.Equal("in the list", list[0].GetProperty("name").GetString());
        Assert.Equal(1, list[0].GetProperty("unread_count").GetInt32());
        Assert.Equal((seq, "group hi"), (list[0].GetProperty("last_message").GetProperty("seq").GetInt64(),
            list[0].GetProperty("last_message").GetProperty("content").GetString()));
        Assert.Equal(b.Id, list[1].GetProperty("peer_id").GetUInt32());
        Assert.Equal(direct, list[1].GetProperty("last_message").GetProperty("message_id").GetInt64());

        var unread = await Ok(a.Device.RequestAsync("get_unread_counts"));
        Assert.Equal(2, unread.GetProperty("total").GetInt64());
        var g = Assert.Single(unread.GetProperty("groups").EnumerateArray());
        Assert.Equal((group, 1), (g.GetProperty("group_id").GetInt64(), g.GetProperty("unread").GetInt32()));
        Assert.Equal(b.Id, Assert.Single(unread.GetProperty("counts").EnumerateArray()).GetProperty("peer_id").GetUInt32());

        // A direct message after the group's entry moves the direct chat first.
        await ChatHarness.SendOk(b.Device, a.Id, "again");
        list = (await Ok(a.Device.RequestAsync("get_conversations"))).GetProperty("conversations").EnumerateArray().ToList();
        Assert.Equal(new[] { "direct", "group" }, list.Select(c => c.GetProperty("kind").GetString()).ToArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task Recall_by_the_sender_or_an_admin_tells_every_member_and_others_may_not()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var h = await ChatHarness.StartAsync(messageClock: clock);
        var owner = await h.MemberAsync();
        var admin = await h.MemberAsync();
        var plain = await h.MemberAsync(devices: 2);
        await h.BefriendAllAsync(owner, admin, plain);
        long group = await CreateAsync(owner, "recalls", admin, plain);
        await Ok(SetRole(owner.Device, group, admin.Id, "admin"));
        long mine = await SendOk(plain.Devices[0], group, "oops");
        long theirs = await SendOk(owner.Device, group, "owner's");

        Assert.Equal(ErrorCodes.Forbidden, await Code(Act(plain.Device, "recall_group_message", group, w => w.WriteNumber("seq", theirs))));
        Assert.Equal(ErrorCodes.NotFound, await Code(Act(plain.Device, "recall_group_message", group, w => w.WriteNumber("seq", 1))));
        Assert.Equal(ErrorCodes.NotFound, await Code(Act(plain.Device, "recall_group_message", group, w => w.WriteNumber("seq", 999))));
        await Ok(Act(plain.Devices[0], "recall_group_message", group, w => w.WriteNumber("seq", mine)));
        // Every device of every member, the recalling one too.
        foreach (var d in new[] { owner.Device, admin.Device, plain.Devices[0], plain.Devices[1] })
        {
            var r = (await Push(d, "group_message_recalled")).Data!.Value;
            Assert.Equal((group, mine, plain.Id), (r.GetProperty("group_id").GetInt64(), r.GetProperty("seq").GetInt64(), r.GetProperty("by").GetUInt32()));
        }
        var recalled = (await Ok(History(owner.Device, group))).GetProperty("messages").EnumerateArray()
            .Single(m => m.GetProperty("seq").GetInt64() == mine);
        Assert.True(recalled.GetProperty("recalled").GetBoolean());
        Assert.False(recalled.TryGetProperty("content", out _));
        Assert.Equal("OK", await Code(Act(plain.Device, "recall_group_message", group, w => w.WriteNumber("seq", mine))));

        // Past 120 s the sender may not; an admin still may.
        long late = await SendOk(plain.Device, group, "too late to take back");
        clock.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal(ErrorCodes.RecallWindowExpired, await Code(Act(plain.Device, "recall_group_message", group, w => w.WriteNumber("seq", late))));
        await Ok(Act(admin.Device, "recall_group_message", group, w => w.WriteNumber("seq", late)));
    }
}

/// <summary>A clock a test moves by hand (message ids and recall windows read it).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
