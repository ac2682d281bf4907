using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>Presence: the most present device wins, friends hear only changes they can see, strangers hear nothing.</summary>
public sealed class PresenceTests
{
    private static async Task<string> NextPresence(ChatClient client, uint of)
    {
        var push = (await Push(client, "presence")).Data!.Value;
        Assert.Equal(of, push.GetProperty("user_id").GetUInt32());
        Assert.True(push.GetProperty("last_seen").GetInt64() > 0);
        return push.GetProperty("status").GetString()!;
    }

    private static Task Status(ChatClient client, string status) => Ok(client.RequestAsync("status_update", w => w.WriteString("status", status)));

    [Fact(Timeout = 60_000)]
    public async Task Friends_see_the_most_present_device_and_only_visible_changes()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (_, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var friend = await h.LoginAsync(bName);
        var stranger = await h.LoginAsync(cName);

        var phone = await h.LoginAsync(aName, "phone");
        Assert.Equal("online", await NextPresence(friend, a));
        var laptop = await h.LoginAsync(aName, "laptop");
        await NoPush(friend, "presence"); // a second device changes nothing a friend sees

        await Status(phone, "busy");
        await NoPush(friend, "presence"); // the laptop is still online, the most present
        await Status(laptop, "away");
        Assert.Equal("busy", await NextPresence(friend, a));
        await Status(phone, "invisible");
        Assert.Equal("away", await NextPresence(friend, a));
        await Status(laptop, "invisible");
        Assert.Equal("offline", await NextPresence(friend, a)); // invisible looks offline
        await laptop.DisposeAsync();
        await NoPush(friend, "presence"); // already offline to friends

        var list = (await Ok(friend.RequestAsync("get_friend_list"))).GetProperty("friends");
        Assert.Equal("offline", list[0].GetProperty("status").GetString());
        await Status(phone, "online");
        Assert.Equal("online", await NextPresence(friend, a));
        await phone.DisposeAsync();
        Assert.Equal("offline", await NextPresence(friend, a));
        await NoPush(stranger, "presence");
    }

    [Fact(Timeout = 60_000)]
    public async Task Status_update_checks_its_fields_and_cannot_name_another_device()
    {
        await using var h = await ChatHarness.StartAsync();
        var (_, name) = await h.CreateUserAsync();
        var client = await h.LoginAsync(name, "phone");
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("status_update", w => w.WriteString("status", "offline"))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("status_update", w => w.WriteNumber("status", 1))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(client.RequestAsync("status_update", w => { w.WriteString("status", "busy"); w.WriteString("client_id", "laptop"); })));
        Assert.Equal(ErrorCodes.Ok, await Code(client.RequestAsync("status_update", w => { w.WriteString("status", "busy"); w.WriteString("client_id", "phone"); })));
    }
}
