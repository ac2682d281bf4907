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
        if (!m.Recalled && m.File is { } file) QkChat.Core.Files.FileJson.Write(w, file);
    }

    /// <summary>
    /// A just-stored message (status `sent`, not recalled) from its UTF-8 content, as <see cref="WriteMembers(Utf8JsonWriter, MessageRecord)"/>
    /// writes it: the `message` push without a record or a string (issue 22).
    /// </summary>
    public static void WriteMembers(Utf8JsonWriter w, NewMessage m)
    {
        w.WriteNumber("message_id"u8, m.MessageId);
        w.WriteNumber("sender_id"u8, m.SenderId);
        w.WriteNumber("receiver_id"u8, m.ReceiverId);
        w.WriteString("content"u8, m.Content.Span);
        w.WriteString("type"u8, m.Type);
        w.WriteNumber("timestamp"u8, m.Timestamp);
        w.WriteString("status"u8, StatusName(MessageStatus.Sent));
        w.WriteBoolean("recalled"u8, false);
        if (m.File is { } file) QkChat.Core.Files.FileJson.Write(w, file);
    }

    /// <summary>
    /// Budget for the messages of one frame: every answer and push must fit the protocol's 64 KiB frame (clients
    /// refuse larger ones), and 100 messages of 4,000 characters would be ~1.6 MB. 56 KiB leaves room for the
    /// envelope; one message always fits (4,000 characters escape to at most 24 KB with the relaxed encoder).
    /// </summary>
    public const int MaxPageBytes = 56 * 1024;

    // Fixed members of a message object (ids, type, timestamp, status, names) stay under 200 bytes; each UTF-16
    // char of content writes at most 6 bytes (a \uXXXX escape; a surrogate pair is 12 bytes for 2 chars).
    public static int UpperBound(MessageRecord m) => 200 + (m.Recalled ? 0 : m.Content.Length * 6 + (m.File is null ? 0 : QkChat.Core.Files.FileJson.UpperBound));

    /// <summary>
    /// Writes `messages` with at most <paramref name="limit"/> of <paramref name="page"/>, stopping early when the
    /// frame would outgrow <see cref="MaxPageBytes"/>, and `has_more` (also true when <paramref name="moreBeyond"/>).
    /// Returns how many were written.
    /// </summary>
    public static int WritePage(Utf8JsonWriter w, IReadOnlyList<MessageRecord> page, int limit, bool moreBeyond = false)
    {
        int written = 0;
        w.WriteStartArray("messages"u8);
        foreach (var m in page)
        {
            if (written == limit) break;
            if (written > 0 && w.BytesCommitted + w.BytesPending + UpperBound(m) > MaxPageBytes) break;
            Write(w, m);
            written++;
        }
        w.WriteEndArray();
        w.WriteBoolean("has_more"u8, written < page.Count || moreBeyond);
        return written;
    }

    /// <summary>Whether one more object of up to this many content chars still fits the frame budget.</summary>
    public static bool Fits(Utf8JsonWriter w, MessageRecord next) => w.BytesCommitted + w.BytesPending + UpperBound(next) + 200 <= MaxPageBytes;

    public static string StatusName(MessageStatus status) => status switch
    {
        MessageStatus.Delivered => "delivered",
        MessageStatus.Read => "read",
        _ => "sent",
    };
}
