using Xunit;
using static QkChat.IntegrationTests.Friends.FriendsHarness;

namespace QkChat.IntegrationTests.Friends;

/// <summary>Notifications that found nobody online: pushed at the next login, exactly once.</summary>
public sealed class OwedNoticeTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_request_to_an_offline_user_is_pushed_at_their_next_login_once()
    {
        await using var h = await StartAsync();
        await using var a = await h.NewUserAsync(1);
        await using var b = await h.RegisterAsync(); // never online yet
        ulong first = await RequestAsync(a, b, "first");
        await using var c = await h.NewUserAsync(1);
        ulong second = await RequestAsync(c, b, "second");
        Assert.Equal(0, await h.Db.ScalarAsync("SELECT COUNT(*) FROM friend_requests WHERE target_notified = 1"));

        var phone = await b.LoginAsync(h, "phone");
        var pushes = new[] { await phone.WaitForPushAsync("friend_request", Wait), await phone.WaitForPushAsync("friend_request", Wait) };
        // Oldest first, each with its sender.
        Assert.Equal([first, second], pushes.Select(p => Data(p).GetProperty("friend_request_id").GetUInt64()));
        Assert.Equal([a.Name, c.Name], pushes.Select(p => Data(p).GetProperty("from").GetProperty("username").GetString()));
        Assert.Equal("first", Data(pushes[0]).GetProperty("message").GetString());
        await AssertNoFriendPushAsync(phone);
        await h.WaitForCountAsync("SELECT COUNT(*) FROM friend_requests WHERE target_notified = 1", 2);

        // A second device, and a later login of the first, are not told again.
        var laptop = await b.LoginAsync(h, "laptop");
        await h.OwedChecksDoneAsync();
        await AssertNoFriendPushAsync(laptop);
        await b.LogoutAsync(h, "phone");
        var phoneAgain = await b.LoginAsync(h, "phone");
        await h.OwedChecksDoneAsync();
        await AssertNoFriendPushAsync(phoneAgain);
        // The requests are still there to answer.
        Assert.Equal(2, Data(await Ok(phoneAgain.RequestAsync("get_friend_requests"))).GetProperty("incoming").GetArrayLength());
    }

    [Fact(Timeout = 60_000)]
    public async Task Answers_for_an_offline_requester_are_pushed_at_their_next_login_once()
    {
        await using var h = await StartAsync();
        await using TestUser a = await h.NewUserAsync(), b = await h.NewUserAsync(1), c = await h.NewUserAsync(1);
        ulong ab = await RequestAsync(a, b);
        ulong ac = await RequestAsync(a, c);
        await a.LogoutAllAsync(h);
        await Ok(Respond(b.Phone, ab, accept: true));
        await Ok(Respond(c.Phone, ac, accept: false));
        Assert.Equal(0, await h.Db.ScalarAsync("SELECT COUNT(*) FROM friend_requests WHERE requester_notified = 1"));

        var laptop = await a.LoginAsync(h, "laptop");
        var first = Data(await laptop.WaitForPushAsync("friend_request_result", Wait));
        var second = Data(await laptop.WaitForPushAsync("friend_request_result", Wait));
        Assert.Equal((ab, b.Id, b.Name, true), (first.GetProperty("friend_request_id").GetUInt64(), first.GetProperty("user_id").GetUInt32(),
            first.GetProperty("username").GetString(), first.GetProperty("accepted").GetBoolean()));
        Assert.Equal((ac, c.Id, c.Name, false), (second.GetProperty("friend_request_id").GetUInt64(), second.GetProperty("user_id").GetUInt32(),
            second.GetProperty("username").GetString(), second.GetProperty("accepted").GetBoolean()));
        await AssertNoFriendPushAsync(laptop);

        var phone = await a.LoginAsync(h, "phone");
        await h.OwedChecksDoneAsync();
        await AssertNoFriendPushAsync(phone);
        await AssertNoFriendPushAsync(laptop);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_mutual_request_tells_the_offline_first_requester_at_login()
    {
        await using var h = await StartAsync();
        await using var a = await h.NewUserAsync(1);
        await using var b = await h.RegisterAsync();
        ulong first = await RequestAsync(a, b);
        await a.LogoutAllAsync(h);

        var bPhone = await b.LoginAsync(h, "phone");
        await bPhone.WaitForPushAsync("friend_request", Wait);
        var answer = Data(await Ok(bPhone.RequestAsync("friend_request", w => w.WriteNumber("user_identifier", a.Id))));
        Assert.True(answer.GetProperty("became_friends").GetBoolean());
        Assert.Equal(a.Id, Data(await bPhone.WaitForPushAsync("friend_request_result", Wait)).GetProperty("user_id").GetUInt32());

        var aPhone = await a.LoginAsync(h, "phone");
        var result = Data(await aPhone.WaitForPushAsync("friend_request_result", Wait));
        Assert.Equal(first, result.GetProperty("friend_request_id").GetUInt64());
        Assert.Equal(b.Id, result.GetProperty("user_id").GetUInt32());
        Assert.True(result.GetProperty("accepted").GetBoolean());
        await AssertNoFriendPushAsync(aPhone);
    }

    [Fact(Timeout = 60_000)]
    public async Task Devices_logging_in_together_share_one_delivery()
    {
        await using var h = await StartAsync();
        await using var a = await h.NewUserAsync(1);
        await using var b = await h.RegisterAsync();
        await RequestAsync(a, b);

        var devices = await Task.WhenAll(b.LoginAsync(h, "phone"), b.LoginAsync(h, "laptop"));
        await h.WaitForCountAsync("SELECT COUNT(*) FROM friend_requests WHERE target_notified = 1", 1);
        await h.OwedChecksDoneAsync();
        int total = 0;
        foreach (var device in devices)
        {
            int count = (await FriendPushCountsAsync(device)).GetValueOrDefault("friend_request");
            Assert.InRange(count, 0, 1);
            total += count;
        }
        Assert.InRange(total, 1, 2); // one delivery, to whichever devices were online at that moment
    }
}
