using System.Text.Json;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Groups.GroupKit;

namespace QkChat.IntegrationTests.Groups;

/// <summary>Sends, their fan-out and who sees which part of the timeline (protocol.md §9), through the real server.</summary>
public sealed class GroupDeliveryTests
{
    // 100 logins and 10,000 pushes on the loaded 2-core box: generous, not a threshold.
    [Fact(Timeout = 180_000)]
    public async Task A_hundred_members_sending_at_once_get_seqs_without_gap_and_every_entry_once_in_seq_order()
    {
        const int N = 100;
        await using var h = await ChatHarness.StartAsync();
        var members = new Member[N];
        for (int i = 0; i < N; i++) members[i] = await h.MemberAsync();
        await h.BefriendAllAsync(members[0], members[1..]);
        long group = await CreateAsync(members[0], "hundred", members[1..]);
        long firstSeq = 3; // 1 created, 2 member_added

        var answers = await Task.WhenAll(members.Select((m, i) => Ok(Send(m.Device, group, "from " + i))));
        long[] seqs = answers.Select(a => a.GetProperty("seq").GetInt64()).ToArray();
        Assert.Equal(Enumerable.Range((int)firstSeq, N).Select(s => (long)s), seqs.Order());

        // Each device gets every entry but its own, once, in seq order, each with the content its sender sent.
        var contentOf = seqs.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => "from " + x.i);
        await Task.WhenAll(members.Select(async (m, i) =>
        {
            var got = new List<long>();
            for (int k = 0; k < N - 1; k++)
            {
                var push = (await Push(m.Device, "group_message")).Data!.Value;
                Assert.Equal(group, push.GetProperty("group_id").GetInt64());
                long seq = push.GetProperty("seq").GetInt64();
                Assert.Equal(contentOf[seq], push.GetProperty("content").GetString());
                got.Add(seq);
            }
            Assert.Equal(seqs.Where(s => s != seqs[i]).Order(), got);
            await NoPush(m.Device, "group_message");
        }));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_senders_other_devices_get_the_entry_and_the_sending_device_does_not()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync(devices: 2);
        var b = await h.MemberAsync(devices: 2);
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "devices", b);
        var sent = await Ok(Send(a.Devices[0], group, "hi all", "c-1"));
        foreach (var device in new[] { a.Devices[1], b.Devices[0], b.Devices[1] })
        {
            var push = (await Push(device, "group_message")).Data!.Value;
            Assert.Equal(sent.GetProperty("seq").GetInt64(), push.GetProperty("seq").GetInt64());
            Assert.Equal(sent.GetProperty("message_id").GetInt64(), push.GetProperty("message_id").GetInt64());
            Assert.Equal(a.Id, push.GetProperty("sender_id").GetUInt32());
            Assert.Equal("text", push.GetProperty("type").GetString());
        }
        await NoPush(a.Devices[0], "group_message");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_member_added_mid_history_sees_the_timeline_from_their_entry_on()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        var late = await h.MemberAsync();
        await h.BefriendAllAsync(a, b, late);
        long group = await CreateAsync(a, "history", b);
        for (int i = 0; i < 3; i++) await SendOk(b.Device, group, "early " + i);

        await Ok(Add(a.Device, group, late.Id));
        var joined = (await Push(late.Device, "group_event")).Data!.Value;
        Assert.Equal("member_added", joined.GetProperty("event").GetString());
        long joinedSeq = joined.GetProperty("seq").GetInt64();
        Assert.Equal(6, joinedSeq);
        long next = await SendOk(b.Device, group, "welcome");
        Assert.Equal(next, (await Push(late.Device, "group_message")).Data!.Value.GetProperty("seq").GetInt64());

        Assert.Equal(new long[] { next, joinedSeq }, Seqs(await Ok(History(late.Device, group))));
        Assert.Equal(new long[] { joinedSeq, next }, Seqs(await Ok(Sync(late.Device, group, 0))));
        Assert.Equal(new long[] { next, joinedSeq, 5, 4, 3, 2, 1 }, Seqs(await Ok(History(a.Device, group))));
        // The early entries are not theirs to recall or read around either.
        Assert.Equal(ErrorCodes.NotFound, await Code(Act(late.Device, "recall_group_message", group, w => w.WriteNumber("seq", 3))));
        var mine = await MyGroupAsync(late.Device, group);
        Assert.Equal(1, mine!.Value.GetProperty("unread_count").GetInt32());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_removed_member_is_told_about_themselves_and_then_gets_nothing_more()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync();
        var stays = await h.MemberAsync();
        var removed = await h.MemberAsync(devices: 2);
        await h.BefriendAllAsync(owner, stays, removed);
        long group = await CreateAsync(owner, "removal", stays, removed);
        // The two entries of the creation first (created, member_added): the checks below look for any later group_event.
        foreach (var d in removed.Devices)
            for (int i = 0; i < 2; i++) await Push(d, "group_event");
        long before = await SendOk(owner.Device, group, "before");
        foreach (var d in removed.Devices.Append(stays.Device))
            Assert.Equal(before, (await Push(d, "group_message")).Data!.Value.GetProperty("seq").GetInt64());

        await Ok(Remove(owner.Device, group, removed.Id));
        foreach (var d in removed.Devices)
        {
            var e = (await Push(d, "group_event")).Data!.Value;
            Assert.Equal("member_removed", e.GetProperty("event").GetString());
            Assert.Equal(new[] { removed.Id }, e.GetProperty("user_ids").EnumerateArray().Select(u => u.GetUInt32()).ToArray());
        }
        long after = await SendOk(owner.Device, group, "after");
        await SendOk(stays.Device, group, "after too");
        Assert.Equal(after, (await Push(stays.Device, "group_message")).Data!.Value.GetProperty("seq").GetInt64());
        // The sends above were answered before the markers: a push to a removed device would come before them.
        foreach (var d in removed.Devices)
        {
            await NoPush(d, "group_message");
            await NoPush(d, "group_event");
            Assert.Equal(ErrorCodes.NotFound, await Code(History(d, group)));
            Assert.Null(await MyGroupAsync(d, group));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_member_removed_while_entries_stream_in_gets_none_after_the_removal_entry()
    {
        await using var h = await ChatHarness.StartAsync();
        var owner = await h.MemberAsync();
        var sender = await h.MemberAsync();
        var removed = await h.MemberAsync();
        await h.BefriendAllAsync(owner, sender, removed);
        long group = await CreateAsync(owner, "race", sender, removed);
        // One entry first, so that the group's members are cached when the removal comes.
        long warm = await SendOk(sender.Device, group, "warm");
        Assert.Equal(warm, (await Push(removed.Device, "group_message")).Data!.Value.GetProperty("seq").GetInt64());
        // The removal goes out while 100 sends are in flight, so some are stored before it and some after.
        var sends = Enumerable.Range(0, 100).Select(i => Ok(Send(sender.Device, group, "n" + i))).ToArray();
        await Ok(Remove(owner.Device, group, removed.Id));
        long[] seqs = (await Task.WhenAll(sends)).Select(a => a.GetProperty("seq").GetInt64()).ToArray();
        var removal = (await removed.Device.WaitForAsync(x => x.Push && x.Action == "group_event"
            && x.Data!.Value.GetProperty("event").GetString() == "member_removed", Patience)).Data!.Value.GetProperty("seq").GetInt64();

        // Every group_message the removed device got before a marker sent after all the answers: none after its removal.
        string marker = "marker-" + Guid.NewGuid().ToString("N");
        await removed.Device.SendFrameAsync(System.Text.Encoding.UTF8.GetBytes($$"""{"action":"heartbeat","request_id":"{{marker}}"}"""));
        var got = new List<long>();
        while (true)
        {
            var e = await removed.Device.WaitForAsync(x => (x.Push && x.Action == "group_message") || (!x.Push && x.RequestId == marker), Patience);
            if (!e.Push) break;
            got.Add(e.Data!.Value.GetProperty("seq").GetInt64());
        }
        Assert.All(got, seq => Assert.True(seq < removal, $"entry {seq} reached a member removed at {removal}"));
        Assert.Equal(got.Order(), got);
        // The timeline has every send and the removal, without a gap.
        Assert.Equal(Enumerable.Range(4, 101).Select(x => (long)x), seqs.Append(removal).Order());
    }

    // 500 durable sends and a paged catch-up on the loaded 2-core box: generous, not a threshold.
    [Fact(Timeout = 120_000)]
    public async Task Offline_for_500_entries_get_groups_and_sync_bring_everything_in_order_once()
    {
        await using var h = await ChatHarness.StartAsync();
        // Five senders of 100 each: one connection's request budget (server.rate_limit_burst, 200) would refuse 500 at once.
        var senders = new Member[5];
        for (int i = 0; i < senders.Length; i++) senders[i] = await h.MemberAsync();
        var (bId, bName) = await h.CreateUserAsync();
        await h.BefriendAllAsync(senders[0], senders[1..]);
        await h.MakeFriendsAsync(senders[0].Id, bId);
        long group = (await Ok(Create(senders[0].Device, "catch up", [.. senders[1..].Select(m => m.Id), bId]))).GetProperty("group_id").GetInt64();
        var sent = await Task.WhenAll(senders.SelectMany((m, k) => Enumerable.Range(0, 100).Select(i => Ok(Send(m.Device, group, $"s{k} {i}")))));
        Assert.Equal(Enumerable.Range(3, 500).Select(s => (long)s), sent.Select(s => s.GetProperty("seq").GetInt64()).Order());

        var b = await h.LoginAsync(bName);
        var mine = (await MyGroupAsync(b, group))!.Value;
        Assert.Equal(502, mine.GetProperty("max_seq").GetInt64());
        Assert.Equal(500, mine.GetProperty("unread_count").GetInt32());
        var got = new List<JsonElement>();
        long cursor = mine.GetProperty("read_seq").GetInt64();
        while (true)
        {
            var page = await Ok(Sync(b, group, cursor, limit: 100));
            var entries = page.GetProperty("messages").EnumerateArray().ToList();
            got.AddRange(entries);
            if (entries.Count > 0) cursor = entries[^1].GetProperty("seq").GetInt64();
            if (!page.GetProperty("has_more").GetBoolean()) break;
        }
        // Everything, in seq order, nothing twice; each sender's entries in the order it sent them.
        Assert.Equal(Enumerable.Range(3, 500).Select(s => (long)s), got.Select(e => e.GetProperty("seq").GetInt64()));
        var contents = got.Select(e => e.GetProperty("content").GetString()!).ToList();
        Assert.Equal(senders.SelectMany((_, k) => Enumerable.Range(0, 100).Select(i => $"s{k} {i}")).Order(), contents.Order());
        for (int k = 0; k < senders.Length; k++)
            Assert.Equal(Enumerable.Range(0, 100).Select(i => $"s{k} {i}"), contents.Where(c => c.StartsWith($"s{k} ", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pipelined_burst_of_one_device_gets_seqs_and_pushes_in_request_order()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "order", b);
        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Ok(Send(a.Device, group, "n" + i))));
        long[] seqs = answers.Select(x => x.GetProperty("seq").GetInt64()).ToArray();
        Assert.Equal(seqs.Order(), seqs);
        for (int i = 0; i < 30; i++)
        {
            var push = (await Push(b.Device, "group_message")).Data!.Value;
            Assert.Equal(("n" + i, seqs[i]), (push.GetProperty("content").GetString(), push.GetProperty("seq").GetInt64()));
        }
    }
}
