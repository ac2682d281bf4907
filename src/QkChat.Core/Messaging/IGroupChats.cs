using System.Text.Json;

namespace QkChat.Core.Messaging;

/// <summary>
/// The groups in a user's chat list and unread counts (protocol.md §9: get_conversations lists groups with `kind`
/// `group`, get_unread_counts adds `groups`). Owned here, by its reader, and implemented by Groups' GroupService, so
/// Messaging does not depend on Groups (which uses Messaging's id minter and batcher).
/// </summary>
public interface IGroupChats
{
    /// <summary>The user's groups (not dissolved), each with its newest entry and unread count.</summary>
    Task<IReadOnlyList<GroupChat>> GroupChatsAsync(uint userId, CancellationToken ct);
}

/// <summary>
/// One group of the list. <see cref="LastMessageId"/> (its newest entry's id; one id space with messages) orders it
/// among the direct chats; <see cref="LastMessageBytes"/> bounds what <see cref="WriteLastMessage"/> writes (the
/// frame budget).
/// </summary>
public sealed record GroupChat(long GroupId, string Name, int UnreadCount, long LastMessageId, int LastMessageBytes,
    Action<Utf8JsonWriter> WriteLastMessage);
