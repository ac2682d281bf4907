using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Social.SocialKit;

namespace QkChat.IntegrationTests.Social;

/// <summary>set_friend_remark and the friend-category actions (protocol.md §7, §8 "Friend groups").</summary>
public sealed class FriendCategoryTests
{
    private static Task<Envelope> Create(ChatClient c, string name) => c.RequestAsync("create_friend_group", w => w.WriteString("group_name", name));

    private static async Task<uint> CreateOk(ChatClient c, string name) => (await Ok(Create(c, name))).GetProperty("group_id").GetUInt32();

    private static Task<Envelope> Rename(ChatClient c, uint id, string name) =>
        c.RequestAsync("rename_friend_group", w => { w.WriteNumber("group_id", id); w.WriteString("new_name", name); });

    private static Task<Envelope> DeleteCategory(ChatClient c, uint id) => c.RequestAsync("delete_friend_group", w => w.WriteNumber("group_id", id));

    private static Task<Envelope> Move(ChatClient c, uint friend, uint category) =>
        c.RequestAsync("move_friend_to_group", w => { w.WriteNumber("friend_id", friend); w.WriteNumber("group_id", category); });

    private static Task<Envelope> Remark(ChatClient c, uint friend, string remark) =>
        c.RequestAsync("set_friend_remark", w => { w.WriteNumber("friend_id", friend); w.WriteString("remark", remark); });

    private static async Task<List<(uint Id, string Name, int Count)>> Categories(ChatClient c) =>
        (await Ok(c.RequestAsync("get_friend_groups"))).GetProperty("groups").EnumerateArray()
        .Select(g => (g.GetProperty("group_id").GetUInt32(), g.GetProperty("group_name").GetString()!, g.GetProperty("count").GetInt32())).ToList();

    [Fact(Timeout = 60_000)]
    public async Task Categories_sort_friends_and_deleting_one_returns_them_to_the_default_category()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (f1, _) = await h.CreateUserAsync();
        var (f2, _) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(me, f1);
        await h.MakeFriendsAsync(me, f2);
        var phone = await h.LoginAsync(myName, "phone");
        var laptop = await h.LoginAsync(myName, "laptop");

        Assert.Equal([(0u, "default", 2)], await Categories(phone));
        uint work = await CreateOk(phone, "Work");
        uint family = await CreateOk(phone, "  Family  ");
        Assert.Equal(ErrorCodes.AlreadyExists, await Code(Create(laptop, "WORK")));
        Assert.Equal(ErrorCodes.AlreadyExists, await Code(Create(laptop, "Default")));

        await Ok(Move(phone, f1, work));
        await Ok(Move(phone, f2, family));
        Assert.Equal([(0u, "default", 0), (work, "Work", 1), (family, "Family", 1)], await Categories(laptop));
        Assert.Equal(work, (await FriendEntry(laptop, f1)).GetProperty("group_id").GetUInt32());

        await Ok(Rename(laptop, work, "Office"));
        Assert.Equal(ErrorCodes.AlreadyExists, await Code(Rename(laptop, work, "family")));
        await Ok(Rename(laptop, work, "OFFICE")); // its own name in another case
        await Ok(DeleteCategory(laptop, work));
        Assert.Equal([(0u, "default", 1), (family, "Family", 1)], await Categories(phone));
        Assert.Equal(0u, (await FriendEntry(phone, f1)).GetProperty("group_id").GetUInt32());
        await Ok(Move(phone, f2, 0));
        Assert.Equal(2, (await Categories(phone))[0].Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_default_category_and_other_users_categories_cannot_be_touched()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (other, otherName) = await h.CreateUserAsync();
        var (friend, _) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(me, friend);
        await h.MakeFriendsAsync(other, friend);
        var mine = await h.LoginAsync(myName);
        var theirs = await h.LoginAsync(otherName);
        uint theirCategory = await CreateOk(theirs, "Theirs");

        Assert.Equal(ErrorCodes.Forbidden, await Code(Rename(mine, 0, "x")));
        Assert.Equal(ErrorCodes.Forbidden, await Code(DeleteCategory(mine, 0)));
        Assert.Equal(ErrorCodes.NotFound, await Code(Rename(mine, theirCategory, "Mine now")));
        Assert.Equal(ErrorCodes.NotFound, await Code(DeleteCategory(mine, theirCategory)));
        Assert.Equal(ErrorCodes.NotFound, await Code(Move(mine, friend, theirCategory)));
        Assert.Equal(ErrorCodes.NotFound, await Code(DeleteCategory(mine, 4_000_000_000)));
        Assert.Equal(ErrorCodes.NotFound, await Code(Move(mine, other, 0))); // not my friend
        await Ok(Create(mine, "x"));
        Assert.Equal(ErrorCodes.AlreadyExists, await Code(Create(mine, "X")));
        await Ok(Create(theirs, "X")); // names are unique per user only
        Assert.Equal([(0u, "default", 1), (theirCategory, "Theirs", 0)], (await Categories(theirs)).Take(2));

        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Create(mine, "")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Create(mine, "   ")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Create(mine, new string('g', 33))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(mine.RequestAsync("create_friend_group")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Rename(mine, 1, "a\nb")));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(mine.RequestAsync("rename_friend_group", w => w.WriteNumber("group_id", -1))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(mine.RequestAsync("move_friend_to_group", w => w.WriteNumber("friend_id", friend))));
        await Ok(Create(mine, new string('群', 32)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_remark_is_private_and_shown_in_the_friend_list()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (friend, friendName) = await h.CreateUserAsync();
        var (stranger, _) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(me, friend);
        var phone = await h.LoginAsync(myName, "phone");
        var laptop = await h.LoginAsync(myName, "laptop");
        var theirs = await h.LoginAsync(friendName);

        Assert.Equal("", (await FriendEntry(phone, friend)).GetProperty("remark").GetString());
        await Ok(Remark(phone, friend, "  老王 from work "));
        Assert.Equal("老王 from work", (await FriendEntry(laptop, friend)).GetProperty("remark").GetString());
        Assert.Equal("", (await FriendEntry(theirs, me)).GetProperty("remark").GetString()); // mine alone
        await Ok(Remark(laptop, friend, new string('é', 64)));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(Remark(laptop, friend, new string('é', 65))));
        Assert.Equal(ErrorCodes.InvalidArgument, await Code(phone.RequestAsync("set_friend_remark", w => w.WriteNumber("friend_id", friend))));
        Assert.Equal(ErrorCodes.NotFound, await Code(Remark(phone, stranger, "who")));
        Assert.Equal(ErrorCodes.NotFound, await Code(Remark(phone, me, "me")));
        await Ok(Remark(phone, friend, ""));
        var entry = await FriendEntry(laptop, friend);
        Assert.Equal("", entry.GetProperty("remark").GetString());
        Assert.Equal(JsonValueKind.Number, entry.GetProperty("group_id").ValueKind);
    }
}
