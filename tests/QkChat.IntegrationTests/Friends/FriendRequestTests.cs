using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Friends.FriendsHarness;

namespace QkChat.IntegrationTests.Friends;

/// <summary>friend_request: every form of user_identifier, the push to exactly the target's devices, every error, mutual requests.</summary>
public sealed class FriendRequestTests
{
    private static Task<Envelope> Send(ChatClient client, Action<Utf8JsonWriter> fields) => client.RequestAsync("friend_request", fields);

    private static async Task AssertPushAsync(TestUser target, TestUser from, ulong id, string message)
    {
        foreach (var device in target.Devices)
        {
            var data = Data(await device.WaitForPushAsync("friend_request", Wait));
            Assert.Equal(id, data.GetProperty("friend_request_id").GetUInt64());
            Assert.Equal(from.Id, data.GetProperty("from").GetProperty("user_id").GetUInt32());
            Assert.Equal(from.Name, data.GetProperty("from").GetProperty("username").GetString());
            Assert.Equal(message, data.GetProperty("message").GetString());
            Assert.InRange(data.GetProperty("created_at").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(),
                DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_identifier_form_reaches_both_devices_of_the_target_and_nobody_else()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(), b = await h.NewUserAsync(), c = await h.NewUserAsync(),
            d = await h.NewUserAsync(), e = await h.NewUserAsync();

        var forms = new (TestUser Target, Action<Utf8JsonWriter> Write)[]
        {
            (b, w => w.WriteString("user_identifier", b.Name.ToUpperInvariant())), // usernames compare ignoring case
            (c, w => w.WriteString("user_identifier", " " + c.Email.ToUpperInvariant())),
            (d, w => w.WriteString("user_identifier", d.Id.ToString())),
            (e, w => w.WriteNumber("user_identifier", e.Id)),
        };
        foreach (var (target, write) in forms)
        {
            string message = "hello 你好 " + target.Name;
            var answer = Data(await Ok(Send(a.Laptop, w => { write(w); w.WriteString("message", message); })));
            Assert.False(answer.GetProperty("became_friends").GetBoolean());
            await AssertPushAsync(target, a, answer.GetProperty("friend_request_id").GetUInt64(), message);
        }
        foreach (var device in a.Devices) await AssertNoFriendPushAsync(device);
        foreach (var device in b.Devices.Concat(c.Devices).Concat(d.Devices).Concat(e.Devices)) await AssertNoFriendPushAsync(device);

        // Without a message: "" in the push.
        await using var f = await h.NewUserAsync();
        var plain = Data(await Ok(Send(a.Phone, w => w.WriteNumber("user_identifier", f.Id))));
        await AssertPushAsync(f, a, plain.GetProperty("friend_request_id").GetUInt64(), "");
        // Marked in the transaction that pushed, committed just after the push.
        await h.WaitForCountAsync($"SELECT COUNT(*) FROM friend_requests WHERE from_user_id = {a.Id} AND target_notified = 1", 5);
    }

    [Fact(Timeout = 60_000)]
    public async Task Errors_follow_the_field_rules_then_the_state()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(1), b = await h.NewUserAsync(1);

        async Task Expect(string code, string? field, Action<Utf8JsonWriter> fields)
        {
            var r = await Send(a.Phone, fields);
            Assert.True(r.Code == code, $"{r.Code} {r.Message}");
            Assert.False(r.Success);
            if (field is not null) Assert.StartsWith(field + ":", r.Message);
        }

        await Expect(ErrorCodes.InvalidArgument, "user_identifier", _ => { });
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteNull("user_identifier"));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteBoolean("user_identifier", true));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteNumber("user_identifier", 12.5));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteNumber("user_identifier", 12345));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteString("user_identifier", "12345"));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteString("user_identifier", "1' -- "));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteString("user_identifier", "a' OR '1'='1"));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteString("user_identifier", "not@an@email"));
        await Expect(ErrorCodes.InvalidArgument, "message", w => { w.WriteNumber("user_identifier", b.Id); w.WriteString("message", new string('x', 201)); });
        await Expect(ErrorCodes.InvalidArgument, "message", w => { w.WriteNumber("user_identifier", b.Id); w.WriteNumber("message", 5); });
        await Expect(ErrorCodes.InvalidArgument, "message", w => { w.WriteNumber("user_identifier", b.Id); w.WriteString("message", "a\u0007b"); });
        // Oneself, in every form.
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteNumber("user_identifier", a.Id));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteString("user_identifier", a.Name));
        await Expect(ErrorCodes.InvalidArgument, "user_identifier", w => w.WriteString("user_identifier", a.Email));
        // Nobody.
        await Expect(ErrorCodes.NotFound, null, w => w.WriteString("user_identifier", "nobody_" + Guid.NewGuid().ToString("N")[..8]));
        await Expect(ErrorCodes.NotFound, null, w => w.WriteString("user_identifier", "nobody@example.org"));
        await Expect(ErrorCodes.NotFound, null, w => w.WriteNumber("user_identifier", 100_000_000));
        // An injection-shaped but valid e-mail is only ever a parameter.
        await Expect(ErrorCodes.NotFound, null, w => w.WriteString("user_identifier", "x'or'1'='1@example.org"));

        // 200 characters exactly is fine (the limit counts UTF-16 units).
        ulong id = Data(await Ok(Send(a.Phone, w => { w.WriteNumber("user_identifier", b.Id); w.WriteString("message", new string('好', 200)); })))
            .GetProperty("friend_request_id").GetUInt64();
        Assert.InRange(id, 1UL, (1UL << 53) - 1);
        await Expect(ErrorCodes.AlreadyExists, null, w => w.WriteNumber("user_identifier", b.Id));
        await Expect(ErrorCodes.AlreadyExists, null, w => w.WriteString("user_identifier", b.Name));
        await Ok(Respond(b.Phone, id, accept: true));
        await Expect(ErrorCodes.AlreadyExists, null, w => w.WriteNumber("user_identifier", b.Id));
        // ...from the other side too: friends are friends both ways.
        var back = await Send(b.Phone, w => w.WriteNumber("user_identifier", a.Id));
        Assert.Equal(ErrorCodes.AlreadyExists, back.Code);
        Assert.Equal(1, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM friend_requests WHERE from_user_id = {a.Id} OR from_user_id = {b.Id}"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Friend_actions_need_a_login()
    {
        await using var h = await StartAsync();
        await using var client = await h.ConnectAsync();
        foreach (string action in new[] { "search_users", "friend_request", "respond_friend_request", "get_friend_requests", "get_friend_list", "delete_friend" })
            Assert.Equal(ErrorCodes.Unauthenticated, (await client.RequestAsync(action)).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_mutual_request_makes_friends_at_once_and_tells_every_device_of_both()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(), b = await h.NewUserAsync(), c = await h.NewUserAsync();
        ulong first = await RequestAsync(a, b);
        foreach (var device in b.Devices) await device.WaitForPushAsync("friend_request", Wait);

        var answer = await Ok(b.Laptop.RequestAsync("friend_request", w => w.WriteString("user_identifier", a.Name)));
        Assert.Equal(first, Data(answer).GetProperty("friend_request_id").GetUInt64());
        Assert.True(Data(answer).GetProperty("became_friends").GetBoolean());

        foreach (var (user, other) in new[] { (a, b), (b, a) })
        {
            foreach (var device in user.Devices)
            {
                var data = Data(await device.WaitForPushAsync("friend_request_result", Wait));
                Assert.Equal(first, data.GetProperty("friend_request_id").GetUInt64());
                Assert.Equal(other.Id, data.GetProperty("user_id").GetUInt32());
                Assert.Equal(other.Name, data.GetProperty("username").GetString());
                Assert.True(data.GetProperty("accepted").GetBoolean());
                await AssertNoFriendPushAsync(device); // once only, and no friend_request push for the second request
            }
        }
        foreach (var device in c.Devices) await AssertNoFriendPushAsync(device);
        Assert.Equal([b.Id], (await FriendListAsync(a.Phone)).Select(f => f.GetProperty("user_id").GetUInt32()));
        Assert.Equal([a.Id], (await FriendListAsync(b.Phone)).Select(f => f.GetProperty("user_id").GetUInt32()));
        lock (h.Changes) Assert.Equal([(b.Id, a.Id)], h.Changes);
        var requests = Data(await Ok(a.Phone.RequestAsync("get_friend_requests")));
        Assert.Empty(requests.GetProperty("incoming").EnumerateArray());
        Assert.Empty(requests.GetProperty("outgoing").EnumerateArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task Simultaneous_mutual_requests_end_as_friends_exactly_once()
    {
        await using var h = await StartAsync();
        for (int round = 0; round < 6; round++)
        {
            await using TestUser a = await h.NewUserAsync(1), b = await h.NewUserAsync(1);
            using var start = new SemaphoreSlim(0, 2);
            async Task<JsonElement> Ask(TestUser from, TestUser to)
            {
                await start.WaitAsync();
                return Data(await Ok(from.Phone.RequestAsync("friend_request", w => w.WriteNumber("user_identifier", to.Id))));
            }
            var ab = Ask(a, b);
            var ba = Ask(b, a);
            start.Release(2);
            var answers = await Task.WhenAll(ab, ba);

            Assert.Single(answers, x => x.GetProperty("became_friends").GetBoolean());
            Assert.Equal(answers[0].GetProperty("friend_request_id").GetUInt64(), answers[1].GetProperty("friend_request_id").GetUInt64());
            string pair = $"({a.Id}, {b.Id})";
            Assert.Equal(1, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM friend_requests WHERE from_user_id IN {pair} AND to_user_id IN {pair}"));
            Assert.Equal(1, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM friend_requests WHERE from_user_id IN {pair} AND status = 1"));
            Assert.Equal(2, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM friendships WHERE user_id IN {pair} AND friend_id IN {pair}"));
            foreach (var user in new[] { a, b })
            {
                Assert.True((await user.Phone.WaitForPushAsync("friend_request_result", Wait)).Data!.Value.GetProperty("accepted").GetBoolean());
                // The first request's target may also have been told of it, if that push won the race with the
                // second request's commit; never twice, and the result only once.
                var counts = await FriendPushCountsAsync(user.Phone);
                Assert.False(counts.ContainsKey("friend_request_result"));
                Assert.InRange(counts.GetValueOrDefault("friend_request"), 0, 1);
            }
        }
    }
}
