using System.Text.Json;
using QkChat.Client;
using QkChat.IntegrationTests.Groups;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21 point 3: messages and group entries of type `file` carry `file: {file_id, name, size, mime, sha256}` in
/// pushes, history, sync and offline batches; get_file_url follows who can see such a message; a file one cannot
/// see cannot be sent (NOT_FOUND).
/// </summary>
public sealed class FileMessageTests
{
    private static Task<Envelope> SendFile(ChatClient c, uint to, long fileId, string? caption = null) =>
        c.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", to);
            w.WriteString("type", "file");
            w.WriteNumber("file_id", fileId);
            if (caption is not null) w.WriteString("content", caption);
        });

    private static Task<Envelope> SendGroupFile(ChatClient c, long group, long fileId, string caption) =>
        c.RequestAsync("send_group_message", w =>
        {
            w.WriteNumber("group_id", group);
            w.WriteString("type", "file");
            w.WriteNumber("file_id", fileId);
            w.WriteString("content", caption);
        });

    private static async Task<long> UploadedAsync(FileKit kit, ChatClient device, byte[] bytes, string name)
    {
        var (id, token, _) = Upload(await InitAsync(device, bytes, name));
        return (await kit.SendAsync(id, token, bytes, 0, bytes.Length)).FileId;
    }

    private static void AssertFile(JsonElement message, long fileId, byte[] bytes, string name)
    {
        Assert.Equal("file", message.GetProperty("type").GetString());
        var file = message.GetProperty("file");
        Assert.Equal(fileId, file.GetProperty("file_id").GetInt64());
        Assert.Equal(name, file.GetProperty("name").GetString());
        Assert.Equal(bytes.Length, file.GetProperty("size").GetInt64());
        Assert.Equal("application/octet-stream", file.GetProperty("mime").GetString());
        Assert.Equal(Sha(bytes), file.GetProperty("sha256").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_message_carries_the_file_everywhere_and_opens_get_file_url_to_its_receiver_only()
    {
        await using var kit = await FileKit.StartAsync();
        var (alice, aliceDevice) = await kit.UserAsync();
        var (bob, bobDevice) = await kit.UserAsync();
        var (_, stranger) = await kit.UserAsync();
        await kit.Chat.MakeFriendsAsync(alice, bob);
        var bytes = RandomBytes(3000);
        long fileId = await UploadedAsync(kit, aliceDevice, bytes, "holiday.jpg");
        Assert.Equal(ErrorCodes.NotFound, (await bobDevice.GetFileUrlAsync(fileId)).Code);

        var sent = await Ok(SendFile(aliceDevice, bob, fileId, "look!"));
        var push = (await Push(bobDevice, "message")).Data!.Value;
        AssertFile(push, fileId, bytes, "holiday.jpg");
        Assert.Equal("look!", push.GetProperty("content").GetString());

        await Ok(bobDevice.GetFileUrlAsync(fileId));
        Assert.Equal(ErrorCodes.NotFound, (await stranger.GetFileUrlAsync(fileId)).Code);

        var history = await Ok(bobDevice.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", alice)));
        AssertFile(history.GetProperty("messages")[0], fileId, bytes, "holiday.jpg");
        var sync = await Ok(bobDevice.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", 0)));
        AssertFile(sync.GetProperty("messages")[0], fileId, bytes, "holiday.jpg");
        var conversations = await Ok(bobDevice.RequestAsync("get_conversations", w => { }));
        AssertFile(conversations.GetProperty("conversations")[0].GetProperty("last_message"), fileId, bytes, "holiday.jpg");
        Assert.Equal(sent.GetProperty("message_id").GetInt64(), history.GetProperty("messages")[0].GetProperty("message_id").GetInt64());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_one_cannot_see_cannot_be_sent_but_a_received_one_can_be_passed_on()
    {
        await using var kit = await FileKit.StartAsync();
        var (alice, aliceDevice) = await kit.UserAsync();
        var (bob, bobDevice) = await kit.UserAsync();
        var (carol, carolDevice) = await kit.UserAsync();
        await kit.Chat.MakeFriendsAsync(alice, bob);
        await kit.Chat.MakeFriendsAsync(bob, carol);
        await kit.Chat.MakeFriendsAsync(carol, alice);
        long fileId = await UploadedAsync(kit, aliceDevice, RandomBytes(100), "a.txt");

        // Carol never saw it: NOT_FOUND, the same answer as for an id that does not exist.
        var refused = await SendFile(carolDevice, bob, fileId);
        var unknown = await SendFile(carolDevice, bob, fileId + 1000);
        Assert.Equal((ErrorCodes.NotFound, unknown.Code, unknown.Message), (refused.Code, ErrorCodes.NotFound, refused.Message));

        await Ok(SendFile(aliceDevice, bob, fileId));
        await Ok(SendFile(bobDevice, carol, fileId, "from alice"));
        await Ok(carolDevice.GetFileUrlAsync(fileId));
    }

    [Fact(Timeout = 60_000)]
    public async Task Type_content_and_file_id_must_agree()
    {
        await using var kit = await FileKit.StartAsync();
        var (alice, aliceDevice) = await kit.UserAsync();
        var (bob, _) = await kit.UserAsync();
        await kit.Chat.MakeFriendsAsync(alice, bob);
        var noFile = await aliceDevice.RequestAsync("send_message", w => { w.WriteNumber("receiver_id", bob); w.WriteString("type", "file"); });
        Assert.Equal((ErrorCodes.InvalidArgument, "file_id: required"), (noFile.Code, noFile.Message));
        var textWithFile = await aliceDevice.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", bob);
            w.WriteString("content", "hi");
            w.WriteNumber("file_id", 5);
        });
        Assert.Equal(ErrorCodes.InvalidArgument, textWithFile.Code);
        Assert.StartsWith("file_id:", textWithFile.Message);
        var otherType = await aliceDevice.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", bob);
            w.WriteString("content", "hi");
            w.WriteString("type", "image");
        });
        Assert.StartsWith("type:", otherType.Message);
        // A caption of 4001 characters is too long, as content always is.
        var longCaption = await SendFile(aliceDevice, bob, 5, new string('x', 4001));
        Assert.StartsWith("content:", longCaption.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_offline_receiver_gets_the_file_in_its_offline_batch()
    {
        await using var kit = await FileKit.StartAsync();
        var (alice, aliceDevice) = await kit.UserAsync();
        var (bob, bobName) = await kit.Chat.CreateUserAsync();
        await kit.Chat.MakeFriendsAsync(alice, bob);
        var bytes = RandomBytes(500);
        long fileId = await UploadedAsync(kit, aliceDevice, bytes, "notes.pdf");
        await Ok(SendFile(aliceDevice, bob, fileId));

        var bobDevice = await kit.Chat.LoginAsync(bobName);
        var batch = (await Push(bobDevice, "offline_messages")).Data!.Value;
        AssertFile(batch.GetProperty("messages")[0], fileId, bytes, "notes.pdf");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_in_a_group_reaches_the_members_with_its_file_and_opens_get_file_url_to_them()
    {
        await using var kit = await FileKit.StartAsync();
        var owner = await kit.Chat.MemberAsync();
        var member = await kit.Chat.MemberAsync();
        var outsider = await kit.Chat.MemberAsync();
        await kit.Chat.BefriendAllAsync(owner, member);
        long group = await GroupKit.CreateAsync(owner, "photos", member);
        var bytes = RandomBytes(2000);
        long fileId = await UploadedAsync(kit, owner.Device, bytes, "team.png");
        Assert.Equal(ErrorCodes.NotFound, (await SendGroupFile(outsider.Device, group, fileId, "")).Code);

        var sent = await Ok(SendGroupFile(owner.Device, group, fileId, "our team"));
        var push = await member.Device.WaitForAsync(e => e.Push && e.Action == "group_message", Patience, "group_message");
        AssertFile(push.Data!.Value, fileId, bytes, "team.png");
        await Ok(member.Device.GetFileUrlAsync(fileId));
        Assert.Equal(ErrorCodes.NotFound, (await outsider.Device.GetFileUrlAsync(fileId)).Code);

        var history = await Ok(GroupKit.History(member.Device, group));
        AssertFile(history.GetProperty("messages")[0], fileId, bytes, "team.png");
        var mine = (await GroupKit.MyGroupAsync(member.Device, group))!.Value;
        AssertFile(mine.GetProperty("last_message"), fileId, bytes, "team.png");
        Assert.Equal(1, mine.GetProperty("unread_count").GetInt32()); // a file entry counts as unread like a text one
        Assert.Equal(sent.GetProperty("seq").GetInt64(), history.GetProperty("messages")[0].GetProperty("seq").GetInt64());
    }
}
