using System.Text;
using System.Text.Json;
using QkChat.Core.Dispatch;
using QkChat.Protocol;
using Xunit;
using static QkChat.Tests.Client.Waits;

namespace QkChat.Tests.Client;

/// <summary>
/// The typed calls send Protocol's action names with Protocol's request records, so what a client writes is what the
/// server's request reader (<see cref="RequestFields"/>) parses, field for field.
/// </summary>
public sealed class ChatClientTypedCallTests
{
    [Fact(Timeout = 60_000)]
    public async Task Login_sends_its_fields_and_leaves_an_unset_device_out()
    {
        await using var pair = await Pair.OpenAsync();
        var response = pair.Client.LoginAsync("alice", "pw-123456", "dev-1", ct: Ct);

        JsonElement request = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.Login, request.GetProperty("action").GetString());
        Assert.Equal("alice", request.GetProperty("username").GetString());
        Assert.Equal("pw-123456", request.GetProperty("password").GetString());
        Assert.Equal("dev-1", request.GetProperty("client_id").GetString());
        // A present null would be INVALID_ARGUMENT on the server: unset fields must not be written at all.
        Assert.False(request.TryGetProperty("device", out _));
        Assert.Equal(["action", "request_id", "username", "password", "client_id"], request.EnumerateObject().Select(p => p.Name));

        await pair.Connection.SendAsync(FakeConnection.ResponseTo(request));
        Assert.True((await response.Within()).Success);
    }

    [Fact(Timeout = 60_000)]
    public async Task What_a_typed_call_writes_the_server_reads_back_into_the_same_record()
    {
        await using var pair = await Pair.OpenAsync();
        _ = pair.Client.SendMessageAsync(222_222_222, "héllo 你好", "c-1", ct: Ct);
        JsonElement send = await pair.Connection.ReadRequestAsync();
        var message = RequestFields.Read(Body(send), MessageRequest.Json, out string? problem);
        Assert.Null(problem);
        Assert.Equal(222_222_222, message!.ReceiverId);
        Assert.Equal("héllo 你好", message.Content);
        Assert.Equal("c-1", message.ClientMsgId);
        Assert.Null(message.Type);

        _ = pair.Client.MessageAckAsync([5, 7], Ct);
        var ack = RequestFields.Read(Body(await pair.Connection.ReadRequestAsync()), MessageRequest.Json, out problem);
        Assert.Null(problem);
        Assert.Equal([5L, 7L], ack!.MessageIds!);

        _ = pair.Client.SendFriendRequestAsync("bob@example.org", "hi", Ct);
        JsonElement friend = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.FriendRequest, friend.GetProperty("action").GetString());
        var read = RequestFields.Read(Body(friend), FriendRequest.Json, out problem);
        Assert.Null(problem);
        Assert.Equal(JsonValueKind.String, read!.UserIdentifier!.Value.ValueKind);
        Assert.Equal("bob@example.org", read.UserIdentifier.Value.GetString());
        Assert.Equal("hi", read.Message);

        _ = pair.Client.GetSecurityEventsAsync(limit: 5, ct: Ct);
        JsonElement events = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.GetSecurityEvents, events.GetProperty("action").GetString());
        Assert.Equal(5, RequestFields.Read(Body(events), SecurityEventsRequest.Json, out _)!.Limit);
        Assert.False(events.TryGetProperty("before", out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_group_calls_write_what_the_server_reads_into_GroupRequest()
    {
        await using var pair = await Pair.OpenAsync();
        _ = pair.Client.SendGroupMessageAsync(42, "héllo 你好", "g-1", ct: Ct);
        JsonElement send = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.SendGroupMessage, send.GetProperty("action").GetString());
        var entry = RequestFields.Read(Body(send), GroupRequest.Json, out string? problem);
        Assert.Null(problem);
        Assert.Equal((42L, "héllo 你好", "g-1"), (entry!.GroupId!.Value, entry.Content, entry.ClientMsgId));
        Assert.Equal(["action", "request_id", "group_id", "content", "client_msg_id"], send.EnumerateObject().Select(p => p.Name));

        _ = pair.Client.CreateGroupAsync("climbing", [222_222_222, 333_333_333], Ct);
        JsonElement create = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.CreateGroup, create.GetProperty("action").GetString());
        var created = RequestFields.Read(Body(create), GroupRequest.Json, out problem);
        Assert.Null(problem);
        Assert.Equal("climbing", created!.Name);
        Assert.Equal([222_222_222L, 333_333_333L], created.MemberIds!);

        _ = pair.Client.SetGroupRoleAsync(42, 222_222_222, "admin", Ct);
        var role = RequestFields.Read(Body(await pair.Connection.ReadRequestAsync()), GroupRequest.Json, out problem);
        Assert.Null(problem);
        Assert.Equal((42L, 222_222_222L, "admin"), (role!.GroupId!.Value, role.UserId!.Value, role.Role));

        _ = pair.Client.SyncGroupMessagesAsync(42, 0, ct: Ct);
        JsonElement sync = await pair.Connection.ReadRequestAsync();
        Assert.Equal(["action", "request_id", "group_id", "after_seq"], sync.EnumerateObject().Select(p => p.Name));
    }

    [Fact(Timeout = 60_000)]
    public async Task Search_messages_writes_group_id_only_when_given()
    {
        await using var pair = await Pair.OpenAsync();
        _ = pair.Client.SearchMessagesAsync("kiwi 猕猴桃", limit: 5, groupId: 42, ct: Ct);
        JsonElement search = await pair.Connection.ReadRequestAsync();
        Assert.Equal(Actions.SearchMessages, search.GetProperty("action").GetString());
        var read = RequestFields.Read(Body(search), MessageRequest.Json, out string? problem);
        Assert.Null(problem);
        Assert.Equal(("kiwi 猕猴桃", 5, 42L), (read!.Keyword, read.Limit!.Value, read.GroupId!.Value));
        Assert.Equal(["action", "request_id", "limit", "keyword", "group_id"], search.EnumerateObject().Select(p => p.Name));

        _ = pair.Client.SearchMessagesAsync("kiwi", chatUserId: 222_222_222, ct: Ct);
        JsonElement direct = await pair.Connection.ReadRequestAsync();
        Assert.Equal(["action", "request_id", "chat_user_id", "keyword"], direct.EnumerateObject().Select(p => p.Name));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_call_without_fields_sends_only_the_envelope()
    {
        await using var pair = await Pair.OpenAsync();
        _ = pair.Client.HeartbeatAsync(Ct);
        JsonElement request = await pair.Connection.ReadRequestAsync();
        Assert.Equal(["action", "request_id"], request.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Actions.Heartbeat, request.GetProperty("action").GetString());
    }

    private static byte[] Body(JsonElement request) => Encoding.UTF8.GetBytes(request.GetRawText());
}
