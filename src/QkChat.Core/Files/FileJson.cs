using System.Text.Json;

namespace QkChat.Core.Files;

/// <summary>The `file` member of a message object and a group entry (protocol.md §10).</summary>
public static class FileJson
{
    /// <summary>
    /// Bytes the member may take: a name of 255 UTF-8 bytes is at most 255 characters, each escaped to at most 6
    /// bytes (1,530), a mime of 127, a sha256 of 64, ids, size and member names under 150.
    /// </summary>
    public const int UpperBound = 1530 + 127 * 6 + 64 + 150;

    public static void Write(Utf8JsonWriter w, StoredFile file)
    {
        w.WriteStartObject("file"u8);
        w.WriteNumber("file_id"u8, file.FileId);
        w.WriteString("name"u8, file.Name);
        w.WriteNumber("size"u8, file.Content.Size);
        w.WriteString("mime"u8, file.Mime);
        w.WriteString("sha256"u8, file.Content.Hex);
        w.WriteEndObject();
    }
}
