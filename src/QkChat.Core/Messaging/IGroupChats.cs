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

    /// <summary>
    /// search_messages over group entries (protocol.md §9; docs/messaging.md "Search in groups"): up to
    /// <paramref name="limit"/> `text` entries matching <paramref name="keyword"/>, newest first, in the groups where the
    /// user is a current member (only <paramref name="groupId"/> when given), from the user's joined seq on, not
    /// recalled; after the terms of every entry answered `sent` before the call are written (read your writes). Null
    /// when <paramref name="groupId"/> is given and the user is not a member of it (NOT_FOUND).
    /// </summary>
    Task<IReadOnlyList<GroupSearchHit>?> SearchGroupsAsync(uint userId, long? groupId, string keyword, int limit, CancellationToken ct);
}

/// <summary>
/// A group entry found by search: <see cref="MessageId"/> (one id space with messages) orders it among the direct
/// results, <see cref="Bytes"/> bounds what <see cref="WriteMembers"/> writes (the §9 entry's members, the frame budget).
/// </summary>
public sealed record GroupSearchHit(long MessageId, int Bytes, Action<Utf8JsonWriter> WriteMembers);

/// <summary>
/// One group of the list. <see cref="LastMessageId"/> (its newest entry's id; one id space with messages) orders it
/// among the direct chats; <see cref="LastMessageBytes"/> bounds what <see cref="WriteLastMessage"/> writes (the
/// frame budget).
/// </summary>
public sealed record GroupChat(long GroupId, string Name, int UnreadCount, long LastMessageId, int LastMessageBytes,
    Action<Utf8JsonWriter> WriteLastMessage);
