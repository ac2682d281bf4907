using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>History paging (offset, before_message_id), limits of every list action, and login first.</summary>
public sealed class HistoryTests
{
    [Fact(Timeout = 60_000)]
    public async Task History_pages_by_offset_or_before_message_id_newest_first()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var alice = await h.LoginAsync(aName);
        var bob = await h.LoginAsync(bName);
        var ids = new List<long>();
        for (int i = 0; i < 7; i++) ids.Add(await SendOk(i % 2 == 0 ? alice : bob, i % 2 == 0 ? b : a, "m" + i));
        ids.Reverse(); // newest first

        var first = await Ok(alice.RequestAsync("get_chat_history", w => { w.WriteNumber("chat_user_id", b); w.WriteNumber("limit", 3); }));
        Assert.Equal(ids.Take(3), Ids(first.GetProperty("messages")));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var second = await Ok(alice.RequestAsync("get_chat_history", w => { w.WriteNumber("chat_user_id", b); w.WriteNumber("limit", 3); w.WriteNumber("offset", 3); }));
        Assert.Equal(ids.Skip(3).Take(3), Ids(second.GetProperty("messages")));
        var before = await Ok(bob.RequestAsync("get_chat_history", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("before_message_id", ids[4]); }));
        Assert.Equal(ids.Skip(5), Ids(before.GetProperty("messages")));
        Assert.False(before.GetProperty("has_more").GetBoolean());
        // before_message_id wins over offset.
        var both = await Ok(bob.RequestAsync("get_chat_history", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("before_message_id", ids[0]); w.WriteNumber("offset", 5); }));
        Assert.Equal(ids.Skip(1), Ids(both.GetProperty("messages")));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("get_chat_history", """{"chat_user_id":123456789,"limit":0}""", "limit")]
    [InlineData("get_chat_history", """{"chat_user_id":123456789,"limit":101}""", "limit")]
    [InlineData("get_chat_history", """{"chat_user_id":123456789,"offset":-1}""", "offset")]
    [InlineData("get_chat_history", """{"limit":5}""", "chat_user_id")]
    [InlineData("get_chat_history", """{"chat_user_id":123456789,"before_message_id":0}""", "before_message_id")]
    [InlineData("sync_messages", """{"limit":501}""", "limit")]
    [InlineData("sync_messages", """{"after_message_id":-5}""", "after_message_id")]
    [InlineData("get_conversations", """{"limit":101}""", "limit")]
    [InlineData("message_ack", """{"message_ids":[]}""", "message_ids")]
    [InlineData("message_ack", """{"message_ids":[1,"two"]}""", "message_ids")]
    [InlineData("message_ack", """{"message_ids":[9007199254740992]}""", "message_ids")]
    [InlineData("mark_read", """{"chat_user_id":123456789}""", "up_to_message_id")]
    [InlineData("recall_message", """{"message_id":"7"}""", "message_id")]
    public async Task Bad_fields_are_named(string action, string fields, string field)
    {
        await using var h = await ChatHarness.StartAsync();
        var (_, name) = await h.CreateUserAsync();
        var client = await h.LoginAsync(name);
        var body = System.Text.Json.JsonDocument.Parse(fields).RootElement;
        var response = await client.RequestAsync(action, w => { foreach (var p in body.EnumerateObject()) p.WriteTo(w); });
        Assert.Equal(ErrorCodes.InvalidArgument, response.Code);
        Assert.StartsWith(field, response.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Message_and_presence_actions_need_a_login()
    {
        await using var h = await ChatHarness.StartAsync();
        await using var client = await h.ConnectAsync();
        foreach (string action in new[] { "send_message", "message_ack", "mark_read", "recall_message", "get_chat_history",
                     "get_conversations", "sync_messages", "status_update", "search_users", "get_friend_list" })
            Assert.Equal(ErrorCodes.Unauthenticated, await Code(client.RequestAsync(action)));
    }
}
