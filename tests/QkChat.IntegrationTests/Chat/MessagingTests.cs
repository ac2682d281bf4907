using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>One-to-one messaging through the real server, MariaDB and Redis, with several users and devices.</summary>
public sealed class MessagingTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_message_reaches_every_device_once_and_its_statuses_reach_the_sender()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName, "phone");
        var aLaptop = await h.LoginAsync(aName, "laptop");
        var bPhone = await h.LoginAsync(bName, "phone");
        var bLaptop = await h.LoginAsync(bName, "laptop");

        var sent = await Ok(Send(aPhone, b, "hello 你好"));
        long id = sent.GetProperty("message_id").GetInt64();
        Assert.Equal("sent", sent.GetProperty("status").GetString());
        Assert.InRange(id, 1, (1L << 53) - 1);
        foreach (var device in new[] { bPhone, bLaptop, aLaptop })
        {
            var push = (await Push(device, "message")).Data!.Value;
            Assert.Equal(id, push.GetProperty("message_id").GetInt64());
            Assert.Equal("hello 你好", push.GetProperty("content").GetString());
            Assert.Equal(a, push.GetProperty("sender_id").GetUInt32());
            Assert.Equal(b, push.GetProperty("receiver_id").GetUInt32());
        }
        await NoPush(aPhone, "message");

        await Ok(bPhone.RequestAsync("message_ack", w => { w.WriteStartArray("message_ids"); w.WriteNumberValue(id); w.WriteEndArray(); }));
        foreach (var device in new[] { aPhone, aLaptop })
        {
            var status = (await Push(device, "message_status")).Data!.Value;
            Assert.Equal(id, status.GetProperty("message_id").GetInt64());
            Assert.Equal(b, status.GetProperty("peer_id").GetUInt32());
            Assert.Equal("delivered", status.GetProperty("status").GetString());
        }
        // The second device's ack of the same message changes nothing and tells nobody again.
        await Ok(bLaptop.RequestAsync("message_ack", w => { w.WriteStartArray("message_ids"); w.WriteNumberValue(id); w.WriteEndArray(); }));
        await NoPush(aPhone, "message_status");

        await Ok(bLaptop.RequestAsync("mark_read", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("up_to_message_id", id); }));
        var read = (await Push(aLaptop, "message_status")).Data!.Value;
        Assert.Equal("read", read.GetProperty("status").GetString());
        Assert.Equal(id, read.GetProperty("up_to_message_id").GetInt64());

        var history = await Ok(aPhone.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", b)));
        var only = Assert.Single(history.GetProperty("messages").EnumerateArray());
        Assert.Equal("read", only.GetProperty("status").GetString());
        Assert.False(history.GetProperty("has_more").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pipelined_burst_on_a_cold_cache_is_stored_and_pushed_in_request_order()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b); // also empties the friend caches: the first sends wait for a lookup
        var alice = await h.LoginAsync(aName);
        var bob = await h.LoginAsync(bName);
        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Send(alice, b, "n" + i)));
        long[] ids = answers.Select(r => r.Data!.Value.GetProperty("message_id").GetInt64()).ToArray();
        Assert.Equal(ids.Order(), ids);
        for (int i = 0; i < 30; i++)
        {
            var push = (await Push(bob, "message")).Data!.Value;
            Assert.Equal(("n" + i, ids[i]), (push.GetProperty("content").GetString(), push.GetProperty("message_id").GetInt64()));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_retried_send_with_the_same_client_msg_id_stores_and_delivers_one_message()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName);
        var aLaptop = await h.LoginAsync(aName, "laptop");
        var bPhone = await h.LoginAsync(bName);

        long first = await SendOk(aPhone, b, "once", "c-1");
        long again = await SendOk(aPhone, b, "once", "c-1");
        // Concurrent retries from two connections (the same batch or the next) are one message too.
        var racing = await Task.WhenAll(Send(aPhone, b, "twice", "c-2"), Send(aLaptop, b, "twice", "c-2"));
        Assert.Equal(first, again);
        Assert.All(racing, r => Assert.Equal(ErrorCodes.Ok, r.Code));
        Assert.Equal(racing[0].Data!.Value.GetProperty("message_id").GetInt64(), racing[1].Data!.Value.GetProperty("message_id").GetInt64());

        var history = await Ok(bPhone.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", a)));
        Assert.Equal(2, history.GetProperty("messages").GetArrayLength());
        Assert.Equal(first, (await Push(bPhone, "message")).Data!.Value.GetProperty("message_id").GetInt64());
        await Push(bPhone, "message");
        await NoPush(bPhone, "message");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stranger_cannot_message_read_recall_or_acknowledge()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (_, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName);
        var bPhone = await h.LoginAsync(bName);
        var stranger = await h.LoginAsync(cName);
        long id = await SendOk(aPhone, b, "private");

        Assert.Equal(ErrorCodes.NotFriends, await Code(Send(stranger, a, "hi")));
        var peek = await Ok(stranger.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", a)));
        Assert.Equal(0, peek.GetProperty("messages").GetArrayLength());
        var sync = await Ok(stranger.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", 0)));
        Assert.Equal(0, sync.GetProperty("messages").GetArrayLength());
        Assert.Equal(ErrorCodes.NotFound, await Code(stranger.RequestAsync("recall_message", w => w.WriteNumber("message_id", id))));
        Assert.Equal(ErrorCodes.Forbidden, await Code(bPhone.RequestAsync("recall_message", w => w.WriteNumber("message_id", id))));
        await Ok(stranger.RequestAsync("message_ack", w => { w.WriteStartArray("message_ids"); w.WriteNumberValue(id); w.WriteEndArray(); }));
        await Ok(stranger.RequestAsync("mark_read", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("up_to_message_id", id); }));
        await NoPush(aPhone, "message_status");
        var history = await Ok(bPhone.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", a)));
        Assert.Equal("sent", history.GetProperty("messages")[0].GetProperty("status").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Recall_tells_every_device_of_both_and_history_keeps_it_without_content()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName);
        var aLaptop = await h.LoginAsync(aName, "laptop");
        var bPhone = await h.LoginAsync(bName);
        long id = await SendOk(aPhone, b, "oops");

        await Ok(aPhone.RequestAsync("recall_message", w => w.WriteNumber("message_id", id)));
        foreach (var device in new[] { aPhone, aLaptop, bPhone })
        {
            var push = (await Push(device, "message_recalled")).Data!.Value;
            Assert.Equal(id, push.GetProperty("message_id").GetInt64());
            Assert.Equal(a, push.GetProperty("by").GetUInt32());
        }
        var m = (await Ok(bPhone.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", a)))).GetProperty("messages")[0];
        Assert.True(m.GetProperty("recalled").GetBoolean());
        Assert.False(m.TryGetProperty("content", out _));
        Assert.Equal(ErrorCodes.Ok, await Code(aPhone.RequestAsync("recall_message", w => w.WriteNumber("message_id", id))));

        // Older than 120 s: written directly with an old timestamp.
        await using (var connection = await h.Db.DataSource.OpenConnectionAsync())
        await using (var old = new MySqlConnector.MySqlCommand(
            $"INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, content, created_at) VALUES (42, {a}, {b}, {Math.Min(a, b)}, {Math.Max(a, b)}, 'old', {DateTimeOffset.UtcNow.AddMinutes(-3).ToUnixTimeMilliseconds()})",
            connection))
        {
            await old.ExecuteNonQueryAsync();
        }
        Assert.Equal(ErrorCodes.RecallWindowExpired, await Code(aPhone.RequestAsync("recall_message", w => w.WriteNumber("message_id", 42))));
        Assert.Equal(ErrorCodes.NotFound, await Code(aPhone.RequestAsync("recall_message", w => w.WriteNumber("message_id", 43))));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("""{"receiver_id":"x","content":"hi"}""", "receiver_id")]
    [InlineData("""{"receiver_id":12,"content":"hi"}""", "receiver_id")]
    [InlineData("""{"receiver_id":123456789,"content":""}""", "content")]
    [InlineData("""{"receiver_id":123456789}""", "content")]
    [InlineData("""{"receiver_id":123456789,"content":"hi","type":"image"}""", "type")]
    [InlineData("""{"receiver_id":123456789,"content":"hi","client_msg_id":""}""", "client_msg_id")]
    public async Task Bad_send_fields_are_named(string fields, string field)
    {
        await using var h = await ChatHarness.StartAsync();
        var (_, name) = await h.CreateUserAsync();
        var client = await h.LoginAsync(name);
        var body = System.Text.Json.JsonDocument.Parse(fields).RootElement;
        var response = await client.RequestAsync("send_message", w =>
        {
            foreach (var p in body.EnumerateObject()) p.WriteTo(w);
        });
        Assert.Equal(ErrorCodes.InvalidArgument, response.Code);
        Assert.StartsWith(field, response.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Content_is_limited_to_4000_characters_counting_each_emoji_once()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, _) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var client = await h.LoginAsync(aName);
        await SendOk(client, b, string.Concat(Enumerable.Repeat("😀", 4000)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Send(client, b, new string('x', 4001))));
    }
}
