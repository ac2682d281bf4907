using System.Text.Json;

namespace QkChat.Core.Messaging;

/// <summary>The message object of protocol.md §5: a recalled message carries no content.</summary>
public static class MessageJson
{
    public static void Write(Utf8JsonWriter w, MessageRecord m)
    {
        w.WriteStartObject();
        WriteMembers(w, m);
        w.WriteEndObject();
    }

    public static void WriteMembers(Utf8JsonWriter w, MessageRecord m)
    {
        w.WriteNumber("message_id"u8, m.MessageId);
        w.WriteNumber("sender_id"u8, m.SenderId);
        w.WriteNumber("receiver_id"u8, m.ReceiverId);
        if (!m.Recalled) w.WriteString("content"u8, m.Content);
        w.WriteString("type"u8, m.Type);
        w.WriteNumber("timestamp"u8, m.Timestamp);
        w.WriteString("status"u8, StatusName(m.Status));
        w.WriteBoolean("recalled"u8, m.Recalled);
    }

    public static void WriteArray(Utf8JsonWriter w, ReadOnlySpan<byte> name, IEnumerable<MessageRecord> messages)
    {
        w.WriteStartArray(name);
        foreach (var m in messages) Write(w, m);
        w.WriteEndArray();
    }

    public static string StatusName(MessageStatus status) => status switch
    {
        MessageStatus.Delivered => "delivered",
        MessageStatus.Read => "read",
        _ => "sent",
    };
}
