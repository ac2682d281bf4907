using System.Text.Json;
using QkChat.Core.Messaging;

namespace QkChat.Core.Groups;

/// <summary>The group entry of protocol.md §9 and the objects of the group answers and pushes.</summary>
public static class GroupJson
{
    public static void Write(Utf8JsonWriter w, GroupEntry e)
    {
        w.WriteStartObject();
        WriteMembers(w, e);
        w.WriteEndObject();
    }

    /// <summary>
    /// A recalled entry carries no content; a `system` entry carries `event` and `user_ids` (its content is the new
    /// name of `renamed`, the new role of `role_changed`, empty otherwise).
    /// </summary>
    public static void WriteMembers(Utf8JsonWriter w, GroupEntry e)
    {
        w.WriteNumber("group_id"u8, e.GroupId);
        w.WriteNumber("seq"u8, e.Seq);
        w.WriteNumber("message_id"u8, e.MessageId);
        w.WriteNumber("sender_id"u8, e.SenderId);
        w.WriteString("type"u8, e.Type);
        if (!e.Recalled) w.WriteString("content"u8, e.Content);
        w.WriteNumber("timestamp"u8, e.Timestamp);
        w.WriteBoolean("recalled"u8, e.Recalled);
        if (!e.Recalled && e.File is { } file) QkChat.Core.Files.FileJson.Write(w, file);
        if (e.Event is not null)
        {
            w.WriteString("event"u8, e.Event);
            WriteUserIds(w, e.UserIds);
        }
    }

    public static void WriteUserIds(Utf8JsonWriter w, IReadOnlyList<uint> ids) => WriteUserIds(w, ids, "user_ids"u8);

    public static void WriteUserIds(Utf8JsonWriter w, IReadOnlyList<uint> ids, ReadOnlySpan<byte> name)
    {
        w.WriteStartArray(name);
        foreach (uint id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
    }

    /// <summary>
    /// The `group_event` push of a system entry: group_id, event, actor_id, user_ids, seq, and for `renamed` the new
    /// `name`, for `role_changed` the new `role`.
    /// </summary>
    public static void WriteEvent(Utf8JsonWriter w, GroupEntry e)
    {
        w.WriteNumber("group_id"u8, e.GroupId);
        w.WriteString("event"u8, e.Event);
        w.WriteNumber("actor_id"u8, e.SenderId);
        WriteUserIds(w, e.UserIds);
        w.WriteNumber("seq"u8, e.Seq);
        if (e.Event == GroupEntryTypes.Renamed) w.WriteString("name"u8, e.Content);
        else if (e.Event == GroupEntryTypes.RoleChanged) w.WriteString("role"u8, e.Content);
    }

    // Fixed members of an entry stay under 300 bytes (plus 11 per user id); content escapes to at most 6 bytes a char.
    public static int UpperBound(GroupEntry? e) => e is null ? 10 : 300 + e.UserIds.Count * 11 + (e.Recalled ? 0 : e.Content.Length * 6 + (e.File is null ? 0 : QkChat.Core.Files.FileJson.UpperBound));

    /// <summary>Whether one more entry still fits the frame budget (<see cref="MessageJson.MaxPageBytes"/>).</summary>
    public static bool Fits(Utf8JsonWriter w, GroupEntry? next, int extra = 0) =>
        w.BytesCommitted + w.BytesPending + (next is null ? 0 : UpperBound(next)) + extra + 200 <= MessageJson.MaxPageBytes;

    /// <summary>
    /// Writes `messages` with at most <paramref name="limit"/> of <paramref name="page"/>, stopping early when the frame
    /// would outgrow the budget, and `has_more`. One entry always fits.
    /// </summary>
    public static void WritePage(Utf8JsonWriter w, IReadOnlyList<GroupEntry> page, int limit)
    {
        int written = 0;
        w.WriteStartArray("messages"u8);
        foreach (var e in page)
        {
            if (written == limit) break;
            if (written > 0 && !Fits(w, e)) break;
            Write(w, e);
            written++;
        }
        w.WriteEndArray();
        w.WriteBoolean("has_more"u8, written < page.Count);
    }

    public static string RoleName(GroupRole role) => role switch
    {
        GroupRole.Owner => "owner",
        GroupRole.Admin => "admin",
        _ => "member",
    };
}
