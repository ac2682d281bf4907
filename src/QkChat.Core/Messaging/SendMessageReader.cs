using System.Text.Json;
using QkChat.Core.Files;
using QkChat.Protocol;

namespace QkChat.Core.Messaging;

/// <summary>
/// send_message's fields read in place from the frame body, with no request object and no string: the content and the
/// client_msg_id are unescaped straight into the pooled <see cref="NewMessage"/> (issue 22). It takes only the
/// common, valid request: the fields send_message has, each once, of the right type and within its rules. Anything
/// else (a null, a wrong type, a field another action has, a repeated field, a broken rule) returns false, and the
/// caller reads the body the general way (RequestFields, MessageRequest), which gives the answer protocol.md §2 asks
/// for. So this reader decides nothing the general one does not: it only spares the allocation when both agree.
/// </summary>
internal static class SendMessageReader
{
    // The dispatcher validated the body (UTF-8, JSON, one object, no lone surrogate escape) before any handler runs.
    private static readonly JsonReaderOptions Options = new() { MaxDepth = RequestHead.MaxDepth };

    [Flags]
    private enum Seen
    {
        None = 0,
        Receiver = 1,
        Content = 2,
        Type = 4,
        ClientMsgId = 8,
        FileId = 16,
        Action = 32,
        RequestId = 64,
    }

    /// <summary>
    /// True when the body is a valid send_message the fast way: <paramref name="message"/> then holds its content and
    /// client_msg_id, and its type is `file` exactly when a file id was given.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, NewMessage message, out uint receiverId, out long fileId)
    {
        receiverId = 0;
        fileId = 0;
        long receiver = 0;
        bool file = false;
        var seen = Seen.None;
        // The content is unescaped first into the buffer's start; the client_msg_id, which may come before it, is
        // remembered by position in the body and copied after.
        int clientMsgIdStart = -1, clientMsgIdLength = 0;
        bool clientMsgIdEscaped = false;
        message.SetContentLength(0);
        var reader = new Utf8JsonReader(body, Options);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            Seen field = reader.ValueTextEquals("receiver_id"u8) ? Seen.Receiver
                : reader.ValueTextEquals("content"u8) ? Seen.Content
                : reader.ValueTextEquals("type"u8) ? Seen.Type
                : reader.ValueTextEquals("client_msg_id"u8) ? Seen.ClientMsgId
                : reader.ValueTextEquals("file_id"u8) ? Seen.FileId
                : reader.ValueTextEquals("action"u8) ? Seen.Action
                : reader.ValueTextEquals("request_id"u8) ? Seen.RequestId
                : Seen.None;
            if (field == Seen.None || (seen & field) != 0) return false;
            seen |= field;
            reader.Read();
            switch (field)
            {
                case Seen.Receiver:
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out receiver)) return false;
                    break;
                case Seen.FileId:
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out fileId)) return false;
                    break;
                case Seen.Type:
                    if (reader.TokenType != JsonTokenType.String) return false;
                    file = reader.ValueTextEquals(MessageTypes.File);
                    if (!file && !reader.ValueTextEquals(MessageTypes.Text)) return false;
                    break;
                case Seen.Content:
                    if (reader.TokenType != JsonTokenType.String || reader.HasValueSequence) return false;
                    var buffer = message.ContentBuffer(reader.ValueSpan.Length);
                    message.SetContentLength(reader.ValueIsEscaped ? reader.CopyString(buffer) : Copy(reader.ValueSpan, buffer));
                    break;
                case Seen.ClientMsgId:
                    if (reader.TokenType != JsonTokenType.String || reader.HasValueSequence) return false;
                    clientMsgIdStart = (int)reader.TokenStartIndex + 1;
                    clientMsgIdLength = reader.ValueSpan.Length;
                    clientMsgIdEscaped = reader.ValueIsEscaped;
                    break;
                default:
                    reader.Skip(); // action and request_id: the dispatcher read them
                    break;
            }
        }
        if (clientMsgIdStart >= 0)
        {
            var raw = body.Slice(clientMsgIdStart, clientMsgIdLength);
            var destination = message.ClientMsgIdBuffer(raw.Length);
            int length = clientMsgIdEscaped ? Unescape(raw, destination) : Copy(raw, destination);
            if (length < 0) return false;
            message.SetClientMsgIdLength(length);
        }
        // The rules of MessagingService (receiver_id, then type with content and file_id, then client_msg_id), kept
        // only when they pass: a problem is answered by the general reader with its exact wording.
        if ((seen & Seen.Receiver) == 0 || receiver is < 100_000_000 or > 999_999_999) return false;
        if (file != ((seen & Seen.FileId) != 0)) return false;
        if (file && fileId is <= 0 or >= 1L << 53) return false;
        if (!file && (seen & Seen.Content) == 0) return false;
        int chars = CodePoints(message.Content.Span);
        if (chars > MessagingOptions.MaxContentChars || (!file && chars == 0)) return false;
        if (message.HasClientMsgId && Utf16Length(message.ClientMsgId.Span) is < 1 or > 64) return false;
        receiverId = (uint)receiver;
        message.Type = file ? MessageTypes.File : MessageTypes.Text;
        return true;
    }

    private static int Copy(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        raw.CopyTo(destination);
        return raw.Length;
    }

    /// <summary>An escaped JSON string's raw text (between its quotes) unescaped, by a reader over it alone.</summary>
    private static int Unescape(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        // A string token needs its quotes around it; 64 characters of client_msg_id are at most 6 x 64 escaped bytes.
        if (raw.Length > 512) return -1;
        Span<byte> quoted = stackalloc byte[raw.Length + 2];
        quoted[0] = (byte)'"';
        raw.CopyTo(quoted[1..]);
        quoted[^1] = (byte)'"';
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        return reader.CopyString(destination);
    }

    /// <summary>Characters as FileRules.MessageBody counts them (Unicode scalar values: one per UTF-8 lead byte).</summary>
    private static int CodePoints(ReadOnlySpan<byte> utf8)
    {
        int count = 0;
        foreach (byte b in utf8)
            if ((b & 0xC0) != 0x80) count++;
        return count;
    }

    /// <summary>UTF-16 code units, as the client_msg_id rule counts a string's Length (4-byte sequences are two).</summary>
    private static int Utf16Length(ReadOnlySpan<byte> utf8)
    {
        int count = 0;
        foreach (byte b in utf8)
        {
            if ((b & 0xC0) != 0x80) count++;
            if ((b & 0xF8) == 0xF0) count++;
        }
        return count;
    }
}
