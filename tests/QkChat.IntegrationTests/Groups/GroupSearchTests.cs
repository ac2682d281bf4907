using System.Text.Json;
using QkChat.Client;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Groups.GroupKit;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// search_messages over group entries (protocol.md §7, §9; docs/messaging.md "Search in groups"), through the real
/// server: members only, from their own join on, never recalled or system entries, merged with direct messages newest
/// first. Every search runs right after the send's answer: read your writes, as for direct messages.
/// </summary>
public sealed class GroupSearchTests
{
    private static Task<Envelope> Search(ChatClient c, string keyword, long? group = null, uint? peer = null, int? limit = null) =>
        c.RequestAsync("search_messages", w =>
        {
            w.WriteString("keyword", keyword);
            if (group is { } g) w.WriteNumber("group_id", g);
            if (peer is { } p) w.WriteNumber("chat_user_id", p);
            if (limit is { } l) w.WriteNumber("limit", l);
        });

    /// <summary>The results as (kind, message_id), in answer order.</summary>
    private static async Task<(string Kind, long Id)[]> Found(ChatClient c, string keyword, long? group = null, uint? peer = null, int? limit = null) =>
        [.. (await Ok(Search(c, keyword, group, peer, limit))).GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("kind").GetString()!, m.GetProperty("message_id").GetInt64()))];

    /// <summary>A group send; returns the entry's message id.</summary>
    private static async Task<long> GroupSendOk(ChatClient c, long group, string content) =>
        (await Ok(GroupKit.Send(c, group, content))).GetProperty("message_id").GetInt64();

    private static (string, long) G(long id) => ("group", id);

    private static (string, long) D(long id) => ("direct", id);

    [Fact(Timeout = 90_000)] // one server, a dozen sends and thirty searches on a loaded 2-core box
    public async Task Members_find_group_entries_merged_newest_first_with_their_direct_messages_and_strangers_find_nothing()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        var stranger = await h.MemberAsync();
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "fruit", b);

        long d1 = await SendOk(a.Device, b.Id, "kiwi direct one");
        long g1 = await GroupSendOk(a.Device, group, "Kiwi group one");
        long d2 = await SendOk(b.Device, a.Id, "kiwi direct two");
        long g2 = await GroupSendOk(b.Device, group, "kiwi 猕猴桃 group two");
        Assert.Equal([G(g2), D(d2), G(g1), D(d1)], await Found(b.Device, "kiwi"));
        Assert.Equal([G(g2), D(d2), G(g1), D(d1)], await Found(a.Device, "KIW"));

        // The limit counts both kinds together; has_more says there is more.
        var page = await Ok(Search(b.Device, "kiwi", limit: 3));
        Assert.Equal([G(g2), D(d2), G(g1)], await Found(b.Device, "kiwi", limit: 3));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.False((await Ok(Search(b.Device, "kiwi", limit: 4))).GetProperty("has_more").GetBoolean());

        // A group result is the §9 group entry with kind; a direct one the §5 message object with kind.
        var found = (await Ok(Search(b.Device, "kiwi", limit: 2))).GetProperty("messages");
        var entry = found[0];
        Assert.Equal(["kind", "group_id", "seq", "message_id", "sender_id", "type", "content", "timestamp", "recalled"],
            entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal((group, b.Id, "text", "kiwi 猕猴桃 group two", false), (entry.GetProperty("group_id").GetInt64(),
            entry.GetProperty("sender_id").GetUInt32(), entry.GetProperty("type").GetString(), entry.GetProperty("content").GetString(),
            entry.GetProperty("recalled").GetBoolean()));
        Assert.Equal(["kind", "message_id", "sender_id", "receiver_id", "content", "type", "timestamp", "status", "recalled"],
            found[1].EnumerateObject().Select(p => p.Name));

        // The same matching rules as direct messages: word starts ignoring case, Chinese runs contiguous, one character anywhere.
        Assert.Empty(await Found(b.Device, "iwi"));
        Assert.Equal([G(g2)], await Found(b.Device, "猕猴桃"));
        Assert.Equal([G(g2)], await Found(b.Device, "猴"));
        Assert.Empty(await Found(b.Device, "猕桃"));
        Assert.Equal([G(g2)], await Found(b.Device, "kiwi two 猴桃"));

        // Filters: a conversation (direct only, as before), a group (its entries only).
        Assert.Equal([D(d2), D(d1)], await Found(b.Device, "kiwi", peer: a.Id));
        Assert.Equal([G(g2), G(g1)], await Found(b.Device, "kiwi", group: group));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(b.Device, "kiwi", group: group, peer: a.Id)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(b.Device, "kiwi", group: 0)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(b.Device.RequestAsync("search_messages", w =>
        {
            w.WriteString("keyword", "kiwi");
            w.WriteString("group_id", group.ToString(System.Globalization.CultureInfo.InvariantCulture));
        })));
        Assert.Empty(await Found(b.Device, "?!", group: group));

        // Not a member: nothing found, and the group filter is NOT_FOUND (existence is not revealed), whatever the keyword.
        Assert.Empty(await Found(stranger.Device, "kiwi"));
        Assert.Equal(ErrorCodes.NotFound, await Code(Search(stranger.Device, "kiwi", group: group)));
        Assert.Equal(ErrorCodes.NotFound, await Code(Search(stranger.Device, "?!", group: group)));
        Assert.Equal(ErrorCodes.NotFound, await Code(Search(b.Device, "kiwi", group: group + 1000)));

        // The typed client call writes group_id.
        var typed = await b.Device.SearchMessagesAsync("kiwi", groupId: group, limit: 1, ct: TestContext.Current.CancellationToken);
        Assert.Equal(ErrorCodes.Ok, typed.Code);
        Assert.Equal(g2, typed.Data!.Value.GetProperty("messages")[0].GetProperty("message_id").GetInt64());
    }

    [Fact(Timeout = 90_000)] // one server, membership changes between sends and searches on a loaded 2-core box
    public async Task Only_entries_from_my_own_join_on_and_nothing_once_I_am_removed_or_the_group_is_dissolved()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        var late = await h.MemberAsync();
        await h.BefriendAllAsync(a, b, late);
        long group = await CreateAsync(a, "mangoes", b);
        long before = await GroupSendOk(a.Device, group, "mango before");

        await Ok(Add(a.Device, group, late.Id));
        long after = await GroupSendOk(b.Device, group, "mango after");
        Assert.Equal([G(after)], await Found(late.Device, "mango"));
        Assert.Equal([G(after)], await Found(late.Device, "mango", group: group));
        Assert.Equal([G(after), G(before)], await Found(b.Device, "mango"));

        // Removed: nothing of the group, before or after the removal; the group filter is NOT_FOUND.
        await Ok(Remove(a.Device, group, b.Id));
        long whileOut = await GroupSendOk(a.Device, group, "mango while out");
        Assert.Empty(await Found(b.Device, "mango"));
        Assert.Equal(ErrorCodes.NotFound, await Code(Search(b.Device, "mango", group: group)));
        Assert.Equal([G(whileOut), G(after)], await Found(late.Device, "mango"));

        // Added again: from the new member_added entry on only.
        await Ok(Add(a.Device, group, b.Id));
        long back = await GroupSendOk(a.Device, group, "mango back");
        Assert.Equal([G(back)], await Found(b.Device, "mango"));

        // Left: nothing again.
        await Ok(Act(late.Device, "leave_group", group));
        Assert.Empty(await Found(late.Device, "mango"));

        // Dissolved: NOT_FOUND for all, nothing found by anyone.
        await Ok(Act(a.Device, "dissolve_group", group));
        Assert.Empty(await Found(a.Device, "mango"));
        Assert.Empty(await Found(b.Device, "mango"));
        Assert.Equal(ErrorCodes.NotFound, await Code(Search(a.Device, "mango", group: group)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Recalled_and_system_entries_are_never_found()
    {
        await using var h = await ChatHarness.StartAsync();
        var a = await h.MemberAsync();
        var b = await h.MemberAsync();
        await h.BefriendAllAsync(a, b);
        long group = await CreateAsync(a, "papaya club", b);
        long kept = await GroupSendOk(b.Device, group, "papaya kept");
        long mine = await GroupSendOk(b.Device, group, "papaya recalled by its sender");
        long theirs = await GroupSendOk(b.Device, group, "papaya recalled by the owner");
        Assert.Equal([G(theirs), G(mine), G(kept)], await Found(a.Device, "papaya"));

        long Seq(JsonElement data, long id) => data.GetProperty("messages").EnumerateArray()
            .Single(m => m.GetProperty("message_id").GetInt64() == id).GetProperty("seq").GetInt64();
        var history = await Ok(History(a.Device, group));
        await Ok(Act(b.Device, "recall_group_message", group, w => w.WriteNumber("seq", Seq(history, mine))));
        await Ok(Act(a.Device, "recall_group_message", group, w => w.WriteNumber("seq", Seq(history, theirs))));
        Assert.Equal([G(kept)], await Found(a.Device, "papaya"));
        Assert.Equal([G(kept)], await Found(b.Device, "papaya", group: group));

        // System entries (a rename carries the new name as content) are not messages: never found.
        await Ok(Act(a.Device, "rename_group", group, w => w.WriteString("name", "zebra papaya")));
        Assert.Empty(await Found(a.Device, "zebra"));
        Assert.Equal([G(kept)], await Found(b.Device, "papaya"));
    }
}
