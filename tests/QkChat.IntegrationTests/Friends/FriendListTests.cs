using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Friends.FriendsHarness;

namespace QkChat.IntegrationTests.Friends;

/// <summary>get_friend_list with live status and last_seen; delete_friend on both sides.</summary>
public sealed class FriendListTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_list_shows_status_and_last_seen_and_pages_by_user_id()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(1), online = await h.NewUserAsync(1), gone = await h.NewUserAsync(1);
        await BefriendAsync(a, online);
        await BefriendAsync(a, gone);
        await Ok(online.Phone.RequestAsync("status_update", w => w.WriteString("status", "busy")));
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await gone.LogoutAllAsync(h);
        await h.WaitForCountAsync($"SELECT COUNT(*) FROM users WHERE user_id = {gone.Id} AND last_seen_at IS NOT NULL", 1);

        var friends = (await FriendListAsync(a.Phone)).ToDictionary(f => f.GetProperty("user_id").GetUInt32());
        Assert.Equal(new[] { online.Id, gone.Id }.Order(), friends.Keys.Order());
        Assert.Equal(online.Name, friends[online.Id].GetProperty("username").GetString());
        Assert.Equal("busy", friends[online.Id].GetProperty("status").GetString());
        Assert.Equal("offline", friends[gone.Id].GetProperty("status").GetString());
        Assert.InRange(friends[gone.Id].GetProperty("last_seen").GetInt64(), before - 1000, before + 60_000);
        Assert.False(friends[gone.Id].TryGetProperty("email", out _));

        // A friend who was never seen online has last_seen null.
        await using var never = await h.RegisterAsync();
        await h.Db.ExecuteAsync($"INSERT INTO friendships (user_id, friend_id, created_at) VALUES ({a.Id}, {never.Id}, 1), ({never.Id}, {a.Id}, 1)");
        var page = Data(await Ok(a.Phone.RequestAsync("get_friend_list")));
        Assert.False(page.GetProperty("has_more").GetBoolean());
        var neverEntry = page.GetProperty("friends").EnumerateArray().Single(f => f.GetProperty("user_id").GetUInt32() == never.Id);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, neverEntry.GetProperty("last_seen").ValueKind);
        Assert.Equal("offline", neverEntry.GetProperty("status").GetString());

        // Pages: ascending user ids, has_more until the last.
        var all = new[] { online.Id, gone.Id, never.Id }.Order().ToArray();
        uint after = 0;
        var seen = new List<uint>();
        for (int i = 0; i < 3; i++)
        {
            var data = Data(await Ok(a.Phone.RequestAsync("get_friend_list", w =>
            {
                w.WriteNumber("limit", 1);
                if (after != 0) w.WriteNumber("after_user_id", after);
            })));
            after = data.GetProperty("friends").EnumerateArray().Single().GetProperty("user_id").GetUInt32();
            seen.Add(after);
            Assert.Equal(i < 2, data.GetProperty("has_more").GetBoolean());
        }
        Assert.Equal(all, seen);
        Assert.Equal(ErrorCodes.InvalidArgument, (await a.Phone.RequestAsync("get_friend_list", w => w.WriteNumber("limit", 0))).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, (await a.Phone.RequestAsync("get_friend_list", w => w.WriteNumber("limit", 501))).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, (await a.Phone.RequestAsync("get_friend_list", w => w.WriteNumber("after_user_id", 5))).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Delete_removes_both_sides_and_tells_every_device_of_the_other_only()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(), b = await h.NewUserAsync(), c = await h.NewUserAsync(1);
        await BefriendAsync(a, b);
        await BefriendAsync(a, c);
        lock (h.Changes) h.Changes.Clear();

        await Ok(a.Laptop.RequestAsync("delete_friend", w => w.WriteNumber("friend_id", b.Id)));
        foreach (var device in b.Devices)
        {
            Assert.Equal(a.Id, Data(await device.WaitForPushAsync("friend_deleted", Wait)).GetProperty("user_id").GetUInt32());
            await AssertNoFriendPushAsync(device);
        }
        foreach (var device in a.Devices.Concat(c.Devices)) await AssertNoFriendPushAsync(device);
        Assert.Equal([c.Id], (await FriendListAsync(a.Phone)).Select(f => f.GetProperty("user_id").GetUInt32()));
        Assert.Empty(await FriendListAsync(b.Phone));
        Assert.Equal(0, await h.Db.ScalarAsync($"SELECT COUNT(*) FROM friendships WHERE user_id IN ({a.Id}, {b.Id}) AND friend_id IN ({a.Id}, {b.Id})"));
        lock (h.Changes) Assert.Equal([(a.Id, b.Id)], h.Changes);

        // Not friends (any more, never, oneself, nobody): NOT_FOUND; ill-formed ids: INVALID_ARGUMENT.
        foreach (uint id in new[] { b.Id, a.Id, 100_000_000u })
            Assert.Equal(ErrorCodes.NotFound, (await b.Phone.RequestAsync("delete_friend", w => w.WriteNumber("friend_id", id))).Code);
        Assert.Equal(ErrorCodes.NotFound, (await b.Phone.RequestAsync("delete_friend", w => w.WriteNumber("friend_id", c.Id))).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, (await b.Phone.RequestAsync("delete_friend")).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, (await b.Phone.RequestAsync("delete_friend", w => w.WriteNumber("friend_id", 42))).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, (await b.Phone.RequestAsync("delete_friend", w => w.WriteString("friend_id", "1' OR 1=1"))).Code);
        Assert.Single(await FriendListAsync(c.Phone)); // c's friendship with a is untouched

        // They can become friends again.
        await BefriendAsync(b, a);
        Assert.Single(await FriendListAsync(b.Phone));
    }
}
