using System.Text.Json;
using QkChat.Client;
using QkChat.IntegrationTests.Chat;

namespace QkChat.IntegrationTests.Social;

/// <summary>Small helpers of the protocol.md §7 tests, on top of <see cref="ChatHarness"/>.</summary>
internal static class SocialKit
{
    public static Task<Protocol.Envelope> WithUser(ChatClient client, string action, uint userId) =>
        client.RequestAsync(action, w => w.WriteNumber("user_id", userId));

    public static async Task<List<JsonElement>> FriendList(ChatClient client) =>
        (await ChatHarness.Ok(client.RequestAsync("get_friend_list"))).GetProperty("friends").EnumerateArray().ToList();

    public static async Task<JsonElement> FriendEntry(ChatClient client, uint friendId) =>
        (await FriendList(client)).Single(f => f.GetProperty("user_id").GetUInt32() == friendId);

    public static async Task<long[]> History(ChatClient client, uint peer) =>
        ChatHarness.Ids((await ChatHarness.Ok(client.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", peer)))).GetProperty("messages"));

    public static async Task<long[]> Sync(ChatClient client) =>
        ChatHarness.Ids((await ChatHarness.Ok(client.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", 0)))).GetProperty("messages"));

    public static Task<Protocol.Envelope> Search(ChatClient client, string keyword, uint? peer = null, int? limit = null) =>
        client.RequestAsync("search_messages", w =>
        {
            w.WriteString("keyword", keyword);
            if (peer is { } p) w.WriteNumber("chat_user_id", p);
            if (limit is { } l) w.WriteNumber("limit", l);
        });

    public static async Task<long[]> SearchIds(ChatClient client, string keyword, uint? peer = null, int? limit = null) =>
        ChatHarness.Ids((await ChatHarness.Ok(Search(client, keyword, peer, limit))).GetProperty("messages"));

    public static async Task<List<JsonElement>> Conversations(ChatClient client) =>
        (await ChatHarness.Ok(client.RequestAsync("get_conversations"))).GetProperty("conversations").EnumerateArray().ToList();

    /// <summary>get_unread_counts as peer -> unread, and the total.</summary>
    public static async Task<(Dictionary<uint, int> Counts, long Total)> Unread(ChatClient client)
    {
        var data = await ChatHarness.Ok(client.RequestAsync("get_unread_counts"));
        var counts = data.GetProperty("counts").EnumerateArray()
            .ToDictionary(c => c.GetProperty("peer_id").GetUInt32(), c => c.GetProperty("unread").GetInt32());
        return (counts, data.GetProperty("total").GetInt64());
    }

    public static Task<Protocol.Envelope> Delete(ChatClient client, long messageId) =>
        client.RequestAsync("delete_message", w => w.WriteNumber("message_id", messageId));
}
