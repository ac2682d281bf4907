using System.Text.Json;
using System.Text.Unicode;

namespace QkChat.Protocol;

/// <summary>Why a frame body could not be read as a request.</summary>
public enum RequestHeadError
{
    None,
    NotUtf8,
    NotJson,
    NotAnObject,
    TooDeep,
    LoneSurrogate,
    ActionMissing,
    ActionNotString,
    RequestIdNotString,
    RequestIdTooLong,
}

/// <summary>
/// The envelope fields every request has (protocol.md §2), read in place from the frame body: the whole body is
/// validated as UTF-8 JSON holding one object, and "action" and "request_id" are copied (unescaped) into
/// caller-provided buffers. No allocation, so routing a heartbeat costs nothing on the heap.
/// </summary>
public static class RequestHead
{
    /// <summary>protocol.md §2: request_id is a string of at most 64 characters.</summary>
    public const int MaxRequestIdChars = 64;

    /// <summary>Longest action name we look up; every real one is far shorter.</summary>
    public const int MaxActionBytes = 64;

    /// <summary>Nesting allowed in a request: the protocol needs 3 or 4 levels; 32 leaves room and stops depth bombs.</summary>
    public const int MaxDepth = 32;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// Validates <paramref name="body"/> and extracts the envelope. <paramref name="action"/> and
    /// <paramref name="requestId"/> receive the unescaped UTF-8 values (lengths returned; -1 when absent).
    /// On an error after the fields were seen, the lengths still say what was found so the answer can echo them.
    /// </summary>
    public static RequestHeadError Read(ReadOnlySpan<byte> body, Span<byte> action, out int actionLength,
        Span<byte> requestId, out int requestIdLength)
    {
        actionLength = -1;
        requestIdLength = -1;
        if (!Utf8.IsValid(body)) return RequestHeadError.NotUtf8;
        var reader = new Utf8JsonReader(body, ReaderOptions);
        bool actionNotString = false, idNotString = false, idTooLong = false;
        try
        {
            if (!reader.Read()) return RequestHeadError.NotJson;
            if (reader.TokenType != JsonTokenType.StartObject) return RequestHeadError.NotAnObject;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0) break;
                // Every string and name at any depth passes one of these two checks, so nothing read later (the
                // feature's field reader, a JsonElement, a handler) meets a string .NET cannot unescape.
                if (HasLoneSurrogate(ref reader)) return RequestHeadError.LoneSurrogate;
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1) continue;
                bool isAction = reader.ValueTextEquals("action"u8);
                bool isRequestId = !isAction && reader.ValueTextEquals("request_id"u8);
                if (!reader.Read()) return RequestHeadError.NotJson;
                if (HasLoneSurrogate(ref reader)) return RequestHeadError.LoneSurrogate;
                if (isAction)
                {
                    actionLength = -1;
                    actionNotString = reader.TokenType != JsonTokenType.String || !TryCopy(ref reader, action, out actionLength);
                }
                else if (isRequestId)
                {
                    requestIdLength = -1;
                    idNotString = reader.TokenType != JsonTokenType.String;
                    idTooLong = !idNotString && (!TryCopy(ref reader, requestId, out requestIdLength)
                        || CountChars(requestId[..requestIdLength]) > MaxRequestIdChars);
                    if (idTooLong) requestIdLength = -1;
                }
                // Values we do not need here are walked over by the loop (still validated to the end).
            }
            // Anything after the object's end (a second value, garbage) makes the body invalid.
            if (reader.Read()) return RequestHeadError.NotJson;
        }
        catch (JsonException)
        {
            // The reader stops at the nesting limit with the depth at the limit; truncated input stops shallower.
            return reader.CurrentDepth >= MaxDepth - 1 ? RequestHeadError.TooDeep : RequestHeadError.NotJson;
        }
        if (reader.BytesConsumed == 0 || reader.CurrentDepth != 0) return RequestHeadError.NotJson;
        if (idNotString) return RequestHeadError.RequestIdNotString;
        if (idTooLong) return RequestHeadError.RequestIdTooLong;
        if (actionNotString) return RequestHeadError.ActionNotString;
        if (actionLength < 0) return RequestHeadError.ActionMissing;
        return RequestHeadError.None;
    }

    /// <summary>
    /// The reader accepts any <c>\uXXXX</c>, but a high surrogate not followed by a low one (or a low one alone) is no
    /// character: .NET throws when unescaping it, and no UTF-8 text can hold it (RFC 8259 §8.2 leaves it undefined).
    /// </summary>
    private static bool HasLoneSurrogate(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped) return false;   // raw text was checked as UTF-8 already
        if (reader.HasValueSequence)
        {
            // Only a body split over segments comes as a sequence; the dispatcher's is one span. Bounded by the frame.
            byte[] copy = System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence);
            return !EscapesAreValidUtf16(copy);
        }
        return !EscapesAreValidUtf16(reader.ValueSpan);
    }

    /// <summary>Walks the escapes of a raw (still escaped, already syntax-checked) string value.</summary>
    internal static bool EscapesAreValidUtf16(ReadOnlySpan<byte> raw)
    {
        bool expectLow = false;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                if (expectLow) return false;
                continue;
            }
            byte kind = raw[++i];   // the reader guarantees a valid escape after every backslash
            if (kind != (byte)'u')
            {
                if (expectLow) return false;
                continue;
            }
            int unit = Hex(raw[i + 1]) << 12 | Hex(raw[i + 2]) << 8 | Hex(raw[i + 3]) << 4 | Hex(raw[i + 4]);
            i += 4;
            bool high = unit is >= 0xD800 and <= 0xDBFF, low = unit is >= 0xDC00 and <= 0xDFFF;
            if (expectLow != low) return false;
            expectLow = high;
        }
        return !expectLow;
    }

    private static int Hex(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static bool TryCopy(ref Utf8JsonReader reader, Span<byte> destination, out int length)
    {
        length = -1;
        if (reader.ValueIsEscaped)
        {
            // Unescaped text is never longer than its escaped form; only then is the copy bounded by the buffer.
            int escapedLength = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (escapedLength > destination.Length) return false;
            length = reader.CopyString(destination);
            return true;
        }
        var raw = reader.ValueSpan;
        if (raw.Length > destination.Length) return false;
        raw.CopyTo(destination);
        length = raw.Length;
        return true;
    }

    /// <summary>Characters as a client counts them (UTF-16 code units, like JavaScript's length).</summary>
    private static int CountChars(ReadOnlySpan<byte> utf8)
    {
        int count = 0;
        foreach (byte b in utf8)
        {
            if ((b & 0xC0) != 0x80) count++;      // a lead byte starts a code point
            if ((b & 0xF8) == 0xF0) count++;      // 4-byte sequences are two UTF-16 units
        }
        return count;
    }
}
