using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Social.SocialKit;

namespace QkChat.IntegrationTests.Social;

/// <summary>delete_message, get_unread_counts and search_messages (protocol.md §7, §8).</summary>
public sealed class MessageSocialTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_message_deleted_for_me_is_gone_from_all_my_views_on_every_device_and_the_peer_keeps_it()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (_, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName, "phone");
        var aLaptop = await h.LoginAsync(aName, "laptop");
        var bPhone = await h.LoginAsync(bName);
        var stranger = await h.LoginAsync(cName);
        long kept = await SendOk(bPhone, a, "keep this banana");
        long gone = await SendOk(bPhone, a, "delete this banana");
        Assert.Equal(2, (await Unread(aLaptop)).Counts[b]);

        Assert.Equal(ErrorCodes.NotFound, await Code(Delete(stranger, gone)));
        Assert.Equal(ErrorCodes.NotFound, await Code(Delete(aPhone, (1L << 53) - 1)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Delete(aPhone, 0)));
        await Ok(Delete(aPhone, gone));
        await Ok(Delete(aPhone, gone)); // a retry answers the same

        Assert.Equal([kept], await History(aLaptop, b));
        Assert.Equal([kept], await Sync(aLaptop));
        Assert.Equal([kept], await SearchIds(aLaptop, "banana"));
        var conversation = Assert.Single(await Conversations(aLaptop));
        Assert.Equal(kept, conversation.GetProperty("last_message").GetProperty("message_id").GetInt64());
        Assert.Equal(1, conversation.GetProperty("unread_count").GetInt32());
        Assert.Equal((1, 1L), ((await Unread(aLaptop)).Counts[b], (await Unread(aLaptop)).Total));

        Assert.Equal([gone, kept], await History(bPhone, a));
        Assert.Equal([gone, kept], await SearchIds(bPhone, "banana"));

        // The sender deleting their own copy: their conversation list loses it once nothing is left.
        await Ok(Delete(bPhone, gone));
        await Ok(Delete(bPhone, kept));
        Assert.Empty(await Conversations(bPhone));
        Assert.Equal([kept], await History(aPhone, b));
    }

    [Fact(Timeout = 60_000)]
    public async Task Unread_counts_leave_out_read_recalled_and_deleted_messages()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (c, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(me, b);
        await h.MakeFriendsAsync(me, c);
        var phone = await h.LoginAsync(myName);
        var bPhone = await h.LoginAsync(bName);
        var cPhone = await h.LoginAsync(cName);
        Assert.Equal(0, (await Unread(phone)).Total);

        long b1 = await SendOk(bPhone, me, "one");
        long b2 = await SendOk(bPhone, me, "two");
        long b3 = await SendOk(bPhone, me, "three");
        long b4 = await SendOk(bPhone, me, "four");
        await SendOk(cPhone, me, "from c");
        await SendOk(phone, b, "mine do not count");
        await Ok(phone.RequestAsync("mark_read", w => { w.WriteNumber("chat_user_id", b); w.WriteNumber("up_to_message_id", b1); }));
        await Ok(bPhone.RequestAsync("recall_message", w => w.WriteNumber("message_id", b2)));
        await Ok(Delete(phone, b3));

        var (counts, total) = await Unread(phone);
        Assert.Equal(new Dictionary<uint, int> { [b] = 1, [c] = 1 }, counts);
        Assert.Equal(2, total);
        var conversations = await Conversations(phone);
        Assert.All(conversations, x => Assert.Equal(1, x.GetProperty("unread_count").GetInt32()));
        _ = b4;
    }

    [Fact(Timeout = 60_000)]
    public async Task Search_matches_words_and_word_starts_ignoring_case_and_cjk_runs_in_my_conversations_only()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (c, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(me, b);
        await h.MakeFriendsAsync(me, c);
        await h.MakeFriendsAsync(b, c);
        var phone = await h.LoginAsync(myName);
        var bPhone = await h.LoginAsync(bName);
        var cPhone = await h.LoginAsync(cName);

        long hello = await SendOk(bPhone, me, "Hello World, see the Meeting notes");
        long chinese = await SendOk(phone, b, "我们明天在北京见面吧");
        long mixed = await SendOk(cPhone, me, "meetings tomorrow? 明天");
        long recalled = await SendOk(phone, c, "meeting recalled soon");
        await Ok(phone.RequestAsync("recall_message", w => w.WriteNumber("message_id", recalled)));
        await SendOk(bPhone, c, "a meeting between others, hello 明天北京"); // not mine: never found

        Assert.Equal([mixed, hello], await SearchIds(phone, "MEET"));
        Assert.Equal([hello], await SearchIds(phone, "meeting", b));
        Assert.Equal([hello], await SearchIds(phone, "hello world"));
        Assert.Empty(await SearchIds(phone, "eeting")); // not a word start
        Assert.Equal([mixed, chinese], await SearchIds(phone, "明天"));
        Assert.Equal([chinese], await SearchIds(phone, "天在北京"));
        Assert.Empty(await SearchIds(phone, "明北京")); // not contiguous
        Assert.Equal([chinese], await SearchIds(phone, "京"));
        Assert.Equal([mixed], await SearchIds(phone, "明天", c));
        Assert.Empty(await SearchIds(phone, "?!"));
        Assert.Equal([mixed], await SearchIds(phone, "meet", limit: 1));
        var page = await Ok(Search(phone, "meet", limit: 1));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.Equal("Hello World, see the Meeting notes", (await Ok(Search(phone, "notes"))).GetProperty("messages")[0].GetProperty("content").GetString());

        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(phone, "")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(phone, "   ")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(phone, new string('x', 101))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(phone, "meet", limit: 101)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Search(phone, "meet", peer: 5)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(phone.RequestAsync("search_messages")));
    }
}
