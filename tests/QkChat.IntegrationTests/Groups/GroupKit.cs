using System.Text.Json;
using QkChat.Client;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>Group requests as a client writes them, over the real server of a <see cref="ChatHarness"/>.</summary>
internal static class GroupKit
{
    /// <summary>A user made in the database and logged in on <paramref name="devices"/> devices ("phone", "laptop", ...).</summary>
    public static async Task<Member> MemberAsync(this ChatHarness h, int devices = 1)
    {
        var (id, name) = await h.CreateUserAsync();
        var list = new List<ChatClient>();
        string[] labels = ["phone", "laptop", "tablet"];
        for (int i = 0; i < devices; i++) list.Add(await h.LoginAsync(name, labels[i]));
        return new Member(id, name, list);
    }

    /// <summary>Makes <paramref name="owner"/> friends with each of <paramref name="others"/> (directly in the database).</summary>
    public static async Task BefriendAllAsync(this ChatHarness h, Member owner, params Member[] others)
    {
        foreach (var other in others) await h.MakeFriendsAsync(owner.Id, other.Id);
    }

    /// <summary>create_group by <paramref name="owner"/>'s first device; returns the group id.</summary>
    public static async Task<long> CreateAsync(Member owner, string name, params Member[] members) =>
        (await Ok(Create(owner.Device, name, members.Select(m => m.Id).ToArray()))).GetProperty("group_id").GetInt64();

    public static Task<Envelope> Create(ChatClient c, string name, uint[]? memberIds) =>
        c.RequestAsync("create_group", w =>
        {
            w.WriteString("name", name);
            if (memberIds is not null) Ids(w, "member_ids", memberIds);
        });

    public static Task<Envelope> Send(ChatClient c, long group, string content, string? clientMsgId = null) =>
        c.RequestAsync("send_group_message", w =>
        {
            w.WriteNumber("group_id", group);
            w.WriteString("content", content);
            w.WriteString("type", "text");
            if (clientMsgId is not null) w.WriteString("client_msg_id", clientMsgId);
        });

    /// <summary>Sends and returns the entry's seq.</summary>
    public static async Task<long> SendOk(ChatClient c, long group, string content, string? clientMsgId = null) =>
        (await Ok(Send(c, group, content, clientMsgId))).GetProperty("seq").GetInt64();

    /// <summary>Any group action with group_id and the fields <paramref name="more"/> writes.</summary>
    public static Task<Envelope> Act(ChatClient c, string action, long group, Action<Utf8JsonWriter>? more = null) =>
        c.RequestAsync(action, w =>
        {
            w.WriteNumber("group_id", group);
            more?.Invoke(w);
        });

    public static Task<Envelope> Add(ChatClient c, long group, params uint[] ids) =>
        Act(c, "add_group_members", group, w => Ids(w, "user_ids", ids));

    public static Task<Envelope> Remove(ChatClient c, long group, uint user) =>
        Act(c, "remove_group_member", group, w => w.WriteNumber("user_id", user));

    public static Task<Envelope> SetRole(ChatClient c, long group, uint user, string role) =>
        Act(c, "set_group_role", group, w => { w.WriteNumber("user_id", user); w.WriteString("role", role); });

    public static Task<Envelope> History(ChatClient c, long group, int? limit = null, long? beforeSeq = null) =>
        Act(c, "get_group_history", group, w =>
        {
            if (limit is not null) w.WriteNumber("limit", limit.Value);
            if (beforeSeq is not null) w.WriteNumber("before_seq", beforeSeq.Value);
        });

    public static Task<Envelope> Sync(ChatClient c, long group, long afterSeq, int? limit = null) =>
        Act(c, "sync_group_messages", group, w =>
        {
            w.WriteNumber("after_seq", afterSeq);
            if (limit is not null) w.WriteNumber("limit", limit.Value);
        });

    public static Task<Envelope> MarkRead(ChatClient c, long group, long upTo) =>
        Act(c, "mark_group_read", group, w => w.WriteNumber("up_to_seq", upTo));

    /// <summary>The caller's row of get_groups for <paramref name="group"/>, or null when it is not listed.</summary>
    public static async Task<JsonElement?> MyGroupAsync(ChatClient c, long group)
    {
        var data = await Ok(c.RequestAsync("get_groups"));
        foreach (var g in data.GetProperty("groups").EnumerateArray())
            if (g.GetProperty("group_id").GetInt64() == group) return g;
        return null;
    }

    public static long[] Seqs(JsonElement data) => data.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()).ToArray();

    private static void Ids(Utf8JsonWriter w, string name, uint[] ids)
    {
        w.WriteStartArray(name);
        foreach (uint id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
    }
}

/// <summary>A test user with its logged-in devices (the first is <see cref="Device"/>).</summary>
internal sealed record Member(uint Id, string Name, IReadOnlyList<ChatClient> Devices)
{
    public ChatClient Device => Devices[0];
}
