using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Friends.FriendsHarness;

namespace QkChat.IntegrationTests.Friends;

/// <summary>respond_friend_request and get_friend_requests: who may answer, what each side is told, what the lists show.</summary>
public sealed class RespondTests
{
    [Fact(Timeout = 60_000)]
    public async Task An_accept_tells_every_device_of_the_requester_only()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(), b = await h.NewUserAsync();
        ulong id = await RequestAsync(a, b);
        foreach (var device in b.Devices) await device.WaitForPushAsync("friend_request", Wait);

        var answer = await Ok(Respond(b.Laptop, id, accept: true));
        Assert.NotNull(answer.Message);
        foreach (var device in a.Devices)
        {
            var data = Data(await device.WaitForPushAsync("friend_request_result", Wait));
            Assert.Equal(id, data.GetProperty("friend_request_id").GetUInt64());
            Assert.Equal(b.Id, data.GetProperty("user_id").GetUInt32());
            Assert.Equal(b.Name, data.GetProperty("username").GetString());
            Assert.True(data.GetProperty("accepted").GetBoolean());
            await AssertNoFriendPushAsync(device);
        }
        foreach (var device in b.Devices) await AssertNoFriendPushAsync(device);
        Assert.Equal([b.Id], (await FriendListAsync(a.Laptop)).Select(f => f.GetProperty("user_id").GetUInt32()));
        Assert.Equal([a.Id], (await FriendListAsync(b.Phone)).Select(f => f.GetProperty("user_id").GetUInt32()));
        lock (h.Changes) Assert.Equal([(b.Id, a.Id)], h.Changes);

        // Answered: a retry says how it was answered, and changes nothing.
        var again = await Respond(b.Phone, id, accept: false);
        Assert.Equal(ErrorCodes.AlreadyExists, again.Code);
        Assert.True(Data(again).GetProperty("accepted").GetBoolean());
        Assert.Single(await FriendListAsync(a.Phone));
        foreach (var device in a.Devices) await AssertNoFriendPushAsync(device);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rejection_is_told_to_the_requester_who_may_ask_again()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(), b = await h.NewUserAsync();
        ulong id = await RequestAsync(a, b);
        await Ok(Respond(b.Phone, id, accept: false));
        foreach (var device in a.Devices)
        {
            var data = Data(await device.WaitForPushAsync("friend_request_result", Wait));
            Assert.Equal(id, data.GetProperty("friend_request_id").GetUInt64());
            Assert.Equal(b.Id, data.GetProperty("user_id").GetUInt32());
            Assert.False(data.GetProperty("accepted").GetBoolean());
        }
        Assert.Empty(await FriendListAsync(a.Phone));
        Assert.Empty(await FriendListAsync(b.Phone));
        lock (h.Changes) Assert.Empty(h.Changes);
        var again = await Respond(b.Phone, id, accept: true);
        Assert.Equal(ErrorCodes.AlreadyExists, again.Code);
        Assert.False(Data(again).GetProperty("accepted").GetBoolean());

        ulong second = await RequestAsync(a, b, "please");
        Assert.NotEqual(id, second);
    }

    [Fact(Timeout = 60_000)]
    public async Task Only_the_target_may_answer_everyone_else_gets_not_found()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(1), b = await h.NewUserAsync(1), stranger = await h.NewUserAsync(1);
        ulong id = await RequestAsync(a, b);

        Assert.Equal(ErrorCodes.NotFound, (await Respond(stranger.Phone, id, accept: true)).Code);
        Assert.Equal(ErrorCodes.NotFound, (await Respond(a.Phone, id, accept: true)).Code); // the requester is not the target
        Assert.Equal(ErrorCodes.NotFound, (await Respond(b.Phone, id + 1000, accept: true)).Code);
        Assert.Equal(0, await h.Db.ScalarAsync("SELECT COUNT(*) FROM friendships"));
        Assert.Equal(0, await h.Db.ScalarAsync($"SELECT status FROM friend_requests WHERE friend_request_id = {id}"));

        foreach (var (fields, field) in new (Action<System.Text.Json.Utf8JsonWriter>, string)[]
                 {
                     (w => w.WriteBoolean("accept", true), "friend_request_id"),
                     (w => { w.WriteNumber("friend_request_id", 0); w.WriteBoolean("accept", true); }, "friend_request_id"),
                     (w => { w.WriteNumber("friend_request_id", 1L << 53); w.WriteBoolean("accept", true); }, "friend_request_id"),
                     (w => { w.WriteString("friend_request_id", id.ToString()); w.WriteBoolean("accept", true); }, "friend_request_id"),
                     (w => w.WriteNumber("friend_request_id", id), "accept"),
                     (w => { w.WriteNumber("friend_request_id", id); w.WriteString("accept", "yes"); }, "accept"),
                 })
        {
            var r = await b.Phone.RequestAsync("respond_friend_request", fields);
            Assert.Equal(ErrorCodes.InvalidArgument, r.Code);
            Assert.StartsWith(field + ":", r.Message);
        }
        await Ok(Respond(b.Phone, id, accept: true));
    }

    [Fact(Timeout = 60_000)]
    public async Task Get_friend_requests_lists_pending_incoming_and_outgoing_of_the_caller_only()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(1), b = await h.NewUserAsync(1), c = await h.NewUserAsync(1), d = await h.NewUserAsync(1);
        ulong ab = await RequestAsync(a, b, "from a");
        ulong ca = await RequestAsync(c, a, "from c");
        ulong da = await RequestAsync(d, a, "from d");
        ulong cb = await RequestAsync(c, b, "c to b");
        // Ignored by its target (ignore_friend_request, §7): gone from a's incoming, still pending for d.
        await h.Db.ExecuteAsync($"UPDATE friend_requests SET ignored_by_target = 1 WHERE friend_request_id = {da}");

        var lists = Data(await Ok(a.Phone.RequestAsync("get_friend_requests")));
        var incoming = Assert.Single(lists.GetProperty("incoming").EnumerateArray());
        Assert.Equal(ca, incoming.GetProperty("friend_request_id").GetUInt64());
        Assert.Equal(c.Id, incoming.GetProperty("user_id").GetUInt32());
        Assert.Equal(c.Name, incoming.GetProperty("username").GetString());
        Assert.Equal("from c", incoming.GetProperty("message").GetString());
        Assert.True(incoming.GetProperty("created_at").GetInt64() > 0);
        var outgoing = Assert.Single(lists.GetProperty("outgoing").EnumerateArray());
        Assert.Equal(ab, outgoing.GetProperty("friend_request_id").GetUInt64());
        Assert.Equal(b.Id, outgoing.GetProperty("user_id").GetUInt32());
        Assert.Equal(b.Name, outgoing.GetProperty("username").GetString());
        Assert.Equal("from a", outgoing.GetProperty("message").GetString());
        Assert.False(lists.GetProperty("incoming_more").GetBoolean());

        var dLists = Data(await Ok(d.Phone.RequestAsync("get_friend_requests")));
        Assert.Equal(da, Assert.Single(dLists.GetProperty("outgoing").EnumerateArray()).GetProperty("friend_request_id").GetUInt64());

        // Newest first; an answered request leaves both lists.
        var bIncoming = Data(await Ok(b.Phone.RequestAsync("get_friend_requests"))).GetProperty("incoming").EnumerateArray()
            .Select(e => e.GetProperty("friend_request_id").GetUInt64()).ToList();
        Assert.Equal([cb, ab], bIncoming);
        await Ok(Respond(b.Phone, ab, accept: false));
        Assert.Empty(Data(await Ok(a.Phone.RequestAsync("get_friend_requests"))).GetProperty("outgoing").EnumerateArray());
    }
}
