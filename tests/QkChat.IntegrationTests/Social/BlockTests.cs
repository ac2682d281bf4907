using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Social.SocialKit;

namespace QkChat.IntegrationTests.Social;

/// <summary>block_user, unblock_user, get_blocked_users (protocol.md §7, §8 "Blocking is checked before friendship").</summary>
public sealed class BlockTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_blocked_friend_cannot_message_either_way_until_unblocked_and_history_stays()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName, "phone");
        var aLaptop = await h.LoginAsync(aName, "laptop");
        var bPhone = await h.LoginAsync(bName);
        long before = await SendOk(bPhone, a, "before the block");
        await Push(aPhone, "message");
        await Push(aLaptop, "message");

        await Ok(WithUser(aPhone, "block_user", b));

        Assert.Equal(ErrorCodes.Forbidden, await Code(Send(bPhone, a, "after the block")));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Send(aLaptop, b, "the blocker cannot either")));
        await NoPush(aPhone, "message");
        await NoPush(aLaptop, "message");
        // The friendship and what was said before stay.
        Assert.Contains(await FriendList(aLaptop), f => f.GetProperty("user_id").GetUInt32() == b);
        Assert.Equal([before], await History(aLaptop, b));
        Assert.Equal([before], await History(bPhone, a));

        var blocked = (await Ok(aLaptop.RequestAsync("get_blocked_users"))).GetProperty("users").EnumerateArray().ToList();
        Assert.Equal(b, Assert.Single(blocked).GetProperty("user_id").GetUInt32());
        Assert.Equal(bName, blocked[0].GetProperty("username").GetString());

        await Ok(WithUser(aLaptop, "unblock_user", b));
        long after = await SendOk(bPhone, a, "after the unblock");
        Assert.Equal(after, (await Push(aPhone, "message")).Data!.Value.GetProperty("message_id").GetInt64());
        Assert.Empty((await Ok(aPhone.RequestAsync("get_blocked_users"))).GetProperty("users").EnumerateArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_blocked_user_cannot_send_friend_requests_and_a_pending_one_disappears()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var aPhone = await h.LoginAsync(aName);
        var bPhone = await h.LoginAsync(bName);
        await Ok(bPhone.RequestAsync("friend_request", w => w.WriteString("user_identifier", aName)));
        await Push(aPhone, "friend_request");

        await Ok(WithUser(aPhone, "block_user", b));

        var requests = await Ok(aPhone.RequestAsync("get_friend_requests"));
        Assert.Empty(requests.GetProperty("incoming").EnumerateArray());
        // The pending one stays pending for the requester (like an ignored one); a new one is refused, by id or by name.
        Assert.Single((await Ok(bPhone.RequestAsync("get_friend_requests"))).GetProperty("outgoing").EnumerateArray());
        Assert.Equal(ErrorCodes.Forbidden, await Code(bPhone.RequestAsync("friend_request", w => w.WriteNumber("user_identifier", a))));
        Assert.Equal(ErrorCodes.Forbidden, await Code(aPhone.RequestAsync("friend_request", w => w.WriteString("user_identifier", bName))));
        // Not friends: the block answers first (FORBIDDEN, not NOT_FRIENDS).
        Assert.Equal(ErrorCodes.Forbidden, await Code(Send(bPhone, a, "hello?")));
        await NoPush(aPhone, "friend_request");

        await Ok(WithUser(aPhone, "unblock_user", b));
        Assert.Equal(ErrorCodes.NotFriends, await Code(Send(bPhone, a, "hello?")));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_two_see_each_other_offline()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName);
        var bPhone = await h.LoginAsync(bName);
        await Push(aPhone, "presence"); // b came online
        Assert.Equal("online", (await FriendEntry(aPhone, b)).GetProperty("status").GetString());

        await Ok(WithUser(bPhone, "block_user", a)); // b blocks a: both directions go dark
        var seen = (await Push(aPhone, "presence")).Data!.Value;
        Assert.Equal(b, seen.GetProperty("user_id").GetUInt32());
        Assert.Equal("offline", seen.GetProperty("status").GetString());
        // (b may first have heard a come online: a's login presence races b's login.)
        await bPhone.WaitForAsync(e => e.Action == "presence" && e.Data!.Value.GetProperty("status").GetString() == "offline"
                                       && e.Data!.Value.GetProperty("user_id").GetUInt32() == a, Patience, "a offline");

        foreach (var (viewer, other) in new[] { (aPhone, b), (bPhone, a) })
        {
            var entry = await FriendEntry(viewer, other);
            Assert.Equal("offline", entry.GetProperty("status").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, entry.GetProperty("last_seen").ValueKind);
        }
        string otherName = bName;
        var found = (await Ok(aPhone.RequestAsync("search_users", w => w.WriteString("query", otherName)))).GetProperty("users")[0];
        Assert.Equal("offline", found.GetProperty("status").GetString());

        // Presence changes no longer reach the other.
        await Ok(bPhone.RequestAsync("status_update", w => w.WriteString("status", "busy")));
        await NoPush(aPhone, "presence");

        await Ok(WithUser(bPhone, "unblock_user", a));
        Assert.Equal("busy", (await Push(aPhone, "presence")).Data!.Value.GetProperty("status").GetString());
        Assert.Equal("busy", (await FriendEntry(aPhone, b)).GetProperty("status").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Codes_for_self_unknown_repeat_and_not_blocked()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, _) = await h.CreateUserAsync();
        var phone = await h.LoginAsync(aName);

        Assert.Equal(ErrorCodes.InvalidArgument, await Code(WithUser(phone, "block_user", a)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(WithUser(phone, "block_user", 12)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(phone.RequestAsync("block_user")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(phone.RequestAsync("block_user", w => w.WriteString("user_id", "x"))));
        Assert.Equal(ErrorCodes.NotFound, await Code(WithUser(phone, "block_user", b == 999_999_999 ? 999_999_998u : 999_999_999u)));
        Assert.Equal(ErrorCodes.NotFound, await Code(WithUser(phone, "unblock_user", b)));
        await Ok(WithUser(phone, "block_user", b));
        Assert.Equal(ErrorCodes.AlreadyExists, await Code(WithUser(phone, "block_user", b)));
        await Ok(WithUser(phone, "unblock_user", b));
        Assert.Equal(ErrorCodes.NotFound, await Code(WithUser(phone, "unblock_user", b)));

        await using var anonymous = await h.ConnectAsync();
        Assert.Equal(ErrorCodes.Unauthenticated, await Code(WithUser(anonymous, "block_user", b)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_block_takes_effect_for_a_sender_whose_sets_are_cached()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var aPhone = await h.LoginAsync(aName);
        var bPhone = await h.LoginAsync(bName);
        // Warm b's cached sets through sends, then block: the very next send is refused.
        for (int i = 0; i < 3; i++) await SendOk(bPhone, a, "warm " + i);
        Assert.True(h.Features.Blocks.Count > 0);
        await Ok(WithUser(aPhone, "block_user", b));
        Assert.Equal(ErrorCodes.Forbidden, await Code(Send(bPhone, a, "right after")));
    }
}
