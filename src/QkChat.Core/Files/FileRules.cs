using System.Text;

namespace QkChat.Core.Files;

/// <summary>The field rules of file_upload_init (protocol.md §10): each returns the problem, naming the field, or null.</summary>
public static class FileRules
{
    /// <summary>1-255 UTF-8 bytes, no `/` (a path, not a name), no NUL (truncates names in C APIs), no other control character.</summary>
    public static string? Name(string? name)
    {
        if (name is null) return "name: required";
        if (name.Length == 0) return "name: 1-255 bytes";
        if (Encoding.UTF8.GetByteCount(name) > FileTransferOptions.MaxNameBytes) return "name: 1-255 bytes";
        foreach (char c in name)
        {
            if (c == '/') return "name: must not contain '/'";
            if (c == '\0') return "name: must not contain NUL";
            if (char.IsControl(c)) return "name: must not contain control characters";
        }
        if (name is "." or "..") return "name: not a file name";
        return null;
    }

    public static string? Size(long? size, long maxBytes) =>
        size is null ? "size: required"
        : size < 1 || size > maxBytes ? $"size: 1-{maxBytes} bytes"
        : null;

    /// <summary>64 hex digits (either case; stored as bytes, so case never matters).</summary>
    public static string? Sha256(string? sha)
    {
        if (sha is null) return "sha256: required";
        if (sha.Length != 64) return "sha256: 64 hex characters";
        foreach (char c in sha)
            if (!char.IsAsciiHexDigit(c)) return "sha256: 64 hex characters";
        return null;
    }

    /// <summary>Optional; `type/subtype` of printable ASCII without spaces, at most 127 characters.</summary>
    public static string? Mime(string? mime)
    {
        if (mime is null) return null;
        if (mime.Length is 0 or > FileTransferOptions.MaxMimeChars) return "mime: 1-127 characters";
        int slash = mime.IndexOf('/');
        if (slash <= 0 || slash == mime.Length - 1 || mime.IndexOf('/', slash + 1) >= 0) return "mime: type/subtype";
        foreach (char c in mime)
            if (c is <= ' ' or >= '\x7f' or '"' or ',' or ';' or '\\') return "mime: type/subtype";
        return null;
    }

    /// <summary>What a file without a stated mime type is served as.</summary>
    public const string DefaultMime = "application/octet-stream";

    /// <summary>
    /// A message's type, content and file together (send_message, send_group_message): `text` (the default) needs
    /// content of 1-<paramref name="maxChars"/> characters and no file_id; `file` needs a file_id and takes an optional
    /// caption of 0-<paramref name="maxChars"/> characters.
    /// </summary>
    public static string? MessageBody(string? type, string? content, long? fileId, int maxChars)
    {
        bool file = type == MessageTypes.File;
        if (type is not null && type != MessageTypes.Text && !file) return "type: \"text\" or \"file\"";
        if (file && FileId(fileId) is { } problem) return problem;
        if (!file && fileId is not null) return "file_id: only with type \"file\"";
        if (content is null) return file ? null : "content: required";
        int chars = 0;
        foreach (var _ in content.EnumerateRunes())
            if (++chars > maxChars) break;
        int min = file ? 0 : 1;
        return chars >= min && chars <= maxChars ? null : $"content: {min}-{maxChars} characters";
    }

    /// <summary>A file id field: a positive integer below 2^53.</summary>
    public static string? FileId(long? id, string field = "file_id") =>
        id is null ? field + ": required"
        : id is <= 0 or >= 1L << 53 ? field + ": a positive integer below 2^53"
        : null;
}

/// <summary>The message types of send_message and send_group_message.</summary>
public static class MessageTypes
{
    public const string Text = "text";
    public const string File = "file";
}
