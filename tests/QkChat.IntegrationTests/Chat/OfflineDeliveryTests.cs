using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>Messages for an absent user wait until acknowledged and come back in order, in batches, without duplicates.</summary>
public sealed class OfflineDeliveryTests
{
    private static Task Ack(ChatClient client, IEnumerable<long> ids) =>
        Ok(client.RequestAsync("message_ack", w =>
        {
            w.WriteStartArray("message_ids");
            foreach (long id in ids) w.WriteNumberValue(id);
            w.WriteEndArray();
        }));

    [Fact(Timeout = 60_000)]
    public async Task An_absent_user_gets_every_message_at_login_in_batches_of_100_paced_by_acks()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var sender = await h.LoginAsync(aName);
        var sent = new List<long>();
        // Eight in flight at a time: several batches of the writer, ids still strictly increasing.
        for (int i = 0; i < 250; i += 10)
            sent.AddRange(await Task.WhenAll(Enumerable.Range(i, 10).Select(n => SendOk(sender, b, "m" + n))));
        Assert.Equal(sent.Order(), sent.Order().Distinct());

        var receiver = await h.LoginAsync(bName);
        var received = new List<long>();
        foreach (int expected in new[] { 100, 100, 50 })
        {
            var batch = (await Push(receiver, "offline_messages")).Data!.Value;
            long[] ids = Ids(batch.GetProperty("messages"));
            Assert.Equal(expected, ids.Length);
            Assert.Equal(expected == 100, batch.GetProperty("has_more").GetBoolean());
            received.AddRange(ids);
            await Ack(receiver, ids);
        }
        await NoPush(receiver, "offline_messages");
        Assert.Equal(sent.Order(), received); // oldest first, each once

        // Acknowledged: a new login gets nothing, and sync_messages still has everything, in order.
        await receiver.DisposeAsync();
        var again = await h.LoginAsync(bName, "tablet");
        await NoPush(again, "offline_messages");
        var sync = await Ok(again.RequestAsync("sync_messages", w => { w.WriteNumber("after_message_id", 0); w.WriteNumber("limit", 500); }));
        Assert.Equal(sent.Order(), Ids(sync.GetProperty("messages")));
        Assert.False(sync.GetProperty("has_more").GetBoolean());
        var tail = await Ok(again.RequestAsync("sync_messages", w => { w.WriteNumber("after_message_id", sent.Order().ElementAt(199)); w.WriteNumber("limit", 20); }));
        Assert.Equal(sent.Order().Skip(200).Take(20), Ids(tail.GetProperty("messages")));
        Assert.True(tail.GetProperty("has_more").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task Unacknowledged_messages_come_again_at_the_next_login_and_recalled_ones_do_not()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var sender = await h.LoginAsync(aName);
        long kept = await SendOk(sender, b, "kept");
        long recalled = await SendOk(sender, b, "recalled");
        await Ok(sender.RequestAsync("recall_message", w => w.WriteNumber("message_id", recalled)));

        var first = await h.LoginAsync(bName);
        Assert.Equal([kept], Ids((await Push(first, "offline_messages")).Data!.Value.GetProperty("messages")));
        await first.DisposeAsync(); // gone without acking
        var second = await h.LoginAsync(bName);
        Assert.Equal([kept], Ids((await Push(second, "offline_messages")).Data!.Value.GetProperty("messages")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_login_in_the_middle_of_a_stream_gets_every_message_once_live_or_offline()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var sender = await h.LoginAsync(aName);
        var sent = new System.Collections.Concurrent.ConcurrentBag<long>();
        using var stop = new CancellationTokenSource();
        var streams = Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++) sent.Add(await SendOk(sender, b, $"{s}/{i}"));
        })).ToArray();

        // Each login lands while messages commit: some are already waiting, some arrive live meanwhile.
        var received = new List<long>();
        for (int round = 0; round < 5; round++)
        {
            await Task.Delay(100);
            var receiver = await h.LoginAsync(bName);
            var until = DateTime.UtcNow.AddMilliseconds(400);
            while (DateTime.UtcNow < until)
            {
                Envelope push;
                try
                {
                    push = await receiver.WaitForAsync(e => e.Push && e.Action is "message" or "offline_messages", TimeSpan.FromMilliseconds(100));
                }
                catch (TimeoutException)
                {
                    continue;
                }
                long[] ids = push.Action == "message"
                    ? [push.Data!.Value.GetProperty("message_id").GetInt64()]
                    : Ids(push.Data!.Value.GetProperty("messages"));
                received.AddRange(ids);
                await Ack(receiver, ids);
            }
            await receiver.DisposeAsync();
        }
        await stop.CancelAsync();
        await Task.WhenAll(streams);

        // What was not acked yet arrives at the last login; nothing twice on any connection, nothing lost.
        var last = await h.LoginAsync(bName, "final");
        while (true)
        {
            JsonElement batch;
            try
            {
                batch = (await last.WaitForPushAsync("offline_messages", TimeSpan.FromSeconds(1))).Data!.Value;
            }
            catch (TimeoutException)
            {
                break;
            }
            long[] ids = Ids(batch.GetProperty("messages"));
            received.AddRange(ids);
            await Ack(last, ids);
        }
        Assert.Equal(received.Count, received.Distinct().Count());
        Assert.Equal(sent.Order(), received.Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task Pages_of_long_messages_stay_within_the_64_KiB_frame_and_say_has_more()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var sender = await h.LoginAsync(aName);
        var sent = new List<long>();
        for (int i = 0; i < 12; i++) sent.Add(await SendOk(sender, b, new string((char)('a' + i), 3998) + "你好"));

        // The client refuses frames over 64 KiB, so each answer arriving at all proves the cap.
        var receiver = await h.LoginAsync(bName);
        var received = new List<long>();
        JsonElement batch;
        do
        {
            batch = (await Push(receiver, "offline_messages")).Data!.Value;
            long[] ids = Ids(batch.GetProperty("messages"));
            Assert.InRange(ids.Length, 1, 11);
            received.AddRange(ids);
            await Ok(receiver.RequestAsync("message_ack", w => { w.WriteStartArray("message_ids"); foreach (long id in ids) w.WriteNumberValue(id); w.WriteEndArray(); }));
        }
        while (batch.GetProperty("has_more").GetBoolean());
        Assert.Equal(sent, received);

        var history = await Ok(receiver.RequestAsync("get_chat_history", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("limit", 100); }));
        Assert.InRange(history.GetProperty("messages").GetArrayLength(), 1, 11);
        Assert.True(history.GetProperty("has_more").GetBoolean());
        var sync = await Ok(receiver.RequestAsync("sync_messages", w => w.WriteNumber("limit", 500)));
        Assert.True(sync.GetProperty("has_more").GetBoolean());
        Assert.Equal(2, (await Ok(receiver.RequestAsync("get_conversations"))).GetProperty("conversations").GetArrayLength() + 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Conversations_are_ordered_by_newest_message_with_unread_counts()
    {
        await using var h = await ChatHarness.StartAsync();
        var (me, meName) = await h.CreateUserAsync();
        var (p1, p1Name) = await h.CreateUserAsync();
        var (p2, p2Name) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(me, p1);
        await h.MakeFriendsAsync(me, p2);
        var mine = await h.LoginAsync(meName);
        var one = await h.LoginAsync(p1Name);
        var two = await h.LoginAsync(p2Name);
        long m1 = await SendOk(one, me, "1a");
        await SendOk(one, me, "1b");
        await SendOk(two, me, "2a");
        long last = await SendOk(one, me, "1c");
        await SendOk(mine, p2, "reply");
        await Ok(mine.RequestAsync("mark_read", w => { w.WriteNumber("chat_user_id", p1); w.WriteNumber("up_to_message_id", m1); }));

        var list = (await Ok(mine.RequestAsync("get_conversations"))).GetProperty("conversations");
        Assert.Equal(2, list.GetArrayLength());
        Assert.Equal(p2, list[0].GetProperty("peer_id").GetUInt32());
        Assert.Equal("reply", list[0].GetProperty("last_message").GetProperty("content").GetString());
        Assert.Equal(1, list[0].GetProperty("unread_count").GetInt32());
        Assert.Equal(p2Name, list[0].GetProperty("username").GetString());
        Assert.Equal(p1, list[1].GetProperty("peer_id").GetUInt32());
        Assert.Equal(last, list[1].GetProperty("last_message").GetProperty("message_id").GetInt64());
        Assert.Equal(2, list[1].GetProperty("unread_count").GetInt32());
        Assert.Equal("online", list[1].GetProperty("status").GetString());
    }
}
