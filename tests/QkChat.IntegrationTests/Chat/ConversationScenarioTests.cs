using QkChat.Client;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Three users with two devices each: a conversation with acks, reads, a recall and presence changes, and a device
/// going away and coming back (offline batch, then sync_messages), with nothing duplicated and the order kept.
/// </summary>
public sealed class ConversationScenarioTests
{
    private static Task Ack(ChatClient client, params long[] ids) =>
        Ok(client.RequestAsync("message_ack", w => { w.WriteStartArray("message_ids"); foreach (long id in ids) w.WriteNumberValue(id); w.WriteEndArray(); }));

    private static async Task<long> Received(ChatClient client, uint from)
    {
        var m = (await Push(client, "message")).Data!.Value;
        Assert.Equal(from, m.GetProperty("sender_id").GetUInt32());
        return m.GetProperty("message_id").GetInt64();
    }

    private static async Task PresenceOf(ChatClient client, uint user, string status)
    {
        var p = (await Push(client, "presence")).Data!.Value;
        Assert.Equal((user, status), (p.GetProperty("user_id").GetUInt32(), p.GetProperty("status").GetString()));
    }

    [Fact(Timeout = 60_000)]
    public async Task Three_users_two_devices_each_lose_nothing_and_see_nothing_twice()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (c, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        await h.MakeFriendsAsync(b, c);
        var aPhone = await h.LoginAsync(aName, "phone");
        var aLaptop = await h.LoginAsync(aName, "laptop");
        var cPhone = await h.LoginAsync(cName, "phone");
        var cLaptop = await h.LoginAsync(cName, "laptop");
        var bPhone = await h.LoginAsync(bName, "phone");
        var bLaptop = await h.LoginAsync(bName, "laptop");
        foreach (var (device, friend) in new[] { (aPhone, b), (aLaptop, b), (cPhone, b), (cLaptop, b) }) await PresenceOf(device, friend, "online");

        // A talks to B: both of B's devices and A's other device see it; C, not a friend of A, sees nothing.
        long m1 = await SendOk(aPhone, b, "hi B");
        Assert.Equal(m1, await Received(bPhone, a));
        Assert.Equal(m1, await Received(bLaptop, a));
        Assert.Equal(m1, await Received(aLaptop, a));
        await Ack(bPhone, m1);
        Assert.Equal("delivered", (await Push(aLaptop, "message_status")).Data!.Value.GetProperty("status").GetString());
        long m2 = await SendOk(bLaptop, a, "hi A");
        Assert.Equal(m2, await Received(aPhone, b));
        Assert.Equal(m2, await Received(aLaptop, b));
        Assert.Equal(m2, await Received(bPhone, b));
        await NoPush(cPhone, "message");

        // B's laptop goes away; B's phone keeps chatting with both.
        long lastSeenByLaptop = m2;
        await bLaptop.DisposeAsync();
        long m3 = await SendOk(aPhone, b, "are you there?");
        long m4 = await SendOk(cPhone, b, "hello from C");
        Assert.Equal(m3, await Received(bPhone, a));
        Assert.Equal(m4, await Received(bPhone, c));
        await Ack(bPhone, m3, m4);
        await Ok(bPhone.RequestAsync("mark_read", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("up_to_message_id", m3); }));
        var read = (await Push(aPhone, "message_status")).Data!.Value;
        while (read.GetProperty("status").GetString() != "read") read = (await Push(aPhone, "message_status")).Data!.Value;
        Assert.Equal(m3, read.GetProperty("up_to_message_id").GetInt64());

        // Then B is gone altogether: friends see offline; messages wait.
        await bPhone.DisposeAsync();
        foreach (var device in new[] { aPhone, aLaptop, cPhone, cLaptop }) await PresenceOf(device, b, "offline");
        long m5 = await SendOk(cLaptop, b, "while you were out 1");
        long m6 = await SendOk(aLaptop, b, "while you were out 2");
        long m7 = await SendOk(cPhone, b, "while you were out 3");
        await Ok(aLaptop.RequestAsync("recall_message", w => w.WriteNumber("message_id", m6)));
        Assert.Equal(m6, (await Push(aPhone, "message_recalled")).Data!.Value.GetProperty("message_id").GetInt64());

        // B's laptop returns: the offline batch has what nobody acked (not the recalled one), then sync fills the gap.
        var back = await h.LoginAsync(bName, "laptop");
        await PresenceOf(aPhone, b, "online");
        var batch = (await Push(back, "offline_messages")).Data!.Value;
        Assert.Equal([m5, m7], Ids(batch.GetProperty("messages")));
        Assert.False(batch.GetProperty("has_more").GetBoolean());
        await Ack(back, m5, m7);
        var sync = await Ok(back.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", lastSeenByLaptop)));
        var synced = sync.GetProperty("messages");
        Assert.Equal([m3, m4, m5, m6, m7], Ids(synced));
        Assert.True(synced[3].GetProperty("recalled").GetBoolean());
        Assert.Equal("read", synced[0].GetProperty("status").GetString());
        Assert.Equal("delivered", synced[1].GetProperty("status").GetString());
        await NoPush(back, "offline_messages");
        await NoPush(back, "message");
        // Senders' other devices got a copy of each of their own messages, once.
        Assert.Equal(m3, await Received(aLaptop, a));
        Assert.Equal(m6, await Received(aPhone, a));
        Assert.Equal(m4, await Received(cLaptop, c));
        Assert.Equal(m7, await Received(cLaptop, c));
        Assert.Equal(m5, await Received(cPhone, c));
        foreach (var device in new[] { aPhone, aLaptop, cPhone, cLaptop }) await NoPush(device, "message");

        var conversations = (await Ok(back.RequestAsync("get_conversations"))).GetProperty("conversations");
        Assert.Equal([c, a], conversations.EnumerateArray().Select(x => x.GetProperty("peer_id").GetUInt32()));
        Assert.Equal(3, conversations[0].GetProperty("unread_count").GetInt32()); // m4, m5, m7: delivered, not read
        Assert.Equal(0, conversations[1].GetProperty("unread_count").GetInt32()); // m1, m3 read up to m3; m6 recalled
    }
}
