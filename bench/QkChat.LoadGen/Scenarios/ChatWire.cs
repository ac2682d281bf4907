using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The chat scenario's frames as bytes: `send_message` and `message_ack` requests written into a pooled array by the
/// client's <see cref="FrameBuilder"/> (its cached Utf8JsonWriter with validation off: only this file writes, and
/// always whole objects; relaxed escaping: the content is ASCII, written as it is), and the frames it reads (their answers, `message` and `message_status`
/// pushes) read by Utf8JsonReader for the few fields it needs, without an Envelope, a JSON document or a string per
/// frame. Request ids are "s" + n for sends and "a" + n for acks, so they never collide with ChatClient's own
/// (digits only), whose answers the raw handler leaves to the client.
/// </summary>
public static class ChatWire
{
    public const byte SendPrefix = (byte)'s';
    public const byte AckPrefix = (byte)'a';

    // The wire names from Protocol's tables, encoded once: no string per frame, and no literal to drift from them.
    private static readonly JsonEncodedText SendMessageName = JsonEncodedText.Encode(Actions.SendMessage);
    private static readonly JsonEncodedText MessageAckName = JsonEncodedText.Encode(Actions.MessageAck);
    private static readonly JsonEncodedText MessagePushName = JsonEncodedText.Encode(PushNames.Message);
    private static readonly JsonEncodedText MessageStatusPushName = JsonEncodedText.Encode(PushNames.MessageStatus);

    /// <summary>Builds a `send_message` frame (header included) for message <paramref name="seq"/> of this
    /// connection: client_msg_id "RUN-SEQ" (fresh per run and message; a retry rebuilds the same id), content from
    /// <see cref="ChatContent"/>. The caller returns the array to the shared pool.</summary>
    public static (byte[] Frame, int Length) SendMessage(long seq, uint receiverId, long runId, long sentUnixMicros, int contentBytes)
    {
        FrameBuilder f = FrameBuilder.Take(contentBytes + 160, validate: false);
        try
        {
            Span<byte> scratch = stackalloc byte[48];
            Utf8JsonWriter w = f.Writer;
            w.WriteStartObject();
            w.WriteString("action"u8, SendMessageName);
            w.WriteString("request_id"u8, Id(scratch, SendPrefix, seq));
            w.WriteNumber("receiver_id"u8, receiverId);
            // Content is ASCII that needs no escaping; a pooled scratch keeps a 4,000-byte message off the stack.
            byte[] content = ArrayPool<byte>.Shared.Rent(Math.Max(contentBytes, ChatContent.MinBytes));
            int written = ChatContent.WriteUtf8(content, runId, sentUnixMicros, contentBytes);
            w.WriteString("content"u8, content.AsSpan(0, written));
            ArrayPool<byte>.Shared.Return(content);
            w.WriteString("type"u8, "text"u8);
            w.WriteString("client_msg_id"u8, ClientMsgId(scratch, runId, seq));
            w.WriteEndObject();
            return f.Detach();
        }
        finally
        {
            FrameBuilder.Give(f);
        }
    }

    /// <summary>Builds a `message_ack` frame for <paramref name="ids"/> (request <paramref name="seq"/>).</summary>
    public static (byte[] Frame, int Length) MessageAck(long seq, ReadOnlySpan<long> ids)
    {
        FrameBuilder f = FrameBuilder.Take(64 + ids.Length * 17, validate: false);
        try
        {
            Span<byte> scratch = stackalloc byte[24];
            Utf8JsonWriter w = f.Writer;
            w.WriteStartObject();
            w.WriteString("action"u8, MessageAckName);
            w.WriteString("request_id"u8, Id(scratch, AckPrefix, seq));
            w.WriteStartArray("message_ids"u8);
            foreach (long id in ids) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteEndObject();
            return f.Detach();
        }
        finally
        {
            FrameBuilder.Give(f);
        }
    }

    private static ReadOnlySpan<byte> Id(Span<byte> scratch, byte prefix, long seq)
    {
        scratch[0] = prefix;
        Utf8Formatter.TryFormat(seq, scratch[1..], out int n);
        return scratch[..(n + 1)];
    }

    private static ReadOnlySpan<byte> ClientMsgId(Span<byte> scratch, long runId, long seq)
    {
        Utf8Formatter.TryFormat(runId, scratch, out int n);
        scratch[n++] = (byte)'-';
        Utf8Formatter.TryFormat(seq, scratch[n..], out int m);
        return scratch[..(n + m)];
    }

    /// <summary>Reads the fields the chat scenario uses; false for a body that is not a JSON object (the client then
    /// parses it itself and reports the broken protocol).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ChatFrame frame)
    {
        frame = default;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("action"u8))
                {
                    reader.Read();
                    frame.Action = reader.ValueTextEquals(MessagePushName.EncodedUtf8Bytes) ? ChatAction.Message
                        : reader.ValueTextEquals(MessageStatusPushName.EncodedUtf8Bytes) ? ChatAction.MessageStatus
                        : ChatAction.Other;
                }
                else if (reader.ValueTextEquals("request_id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped) ReadId(reader.ValueSpan, ref frame);
                }
                else if (reader.ValueTextEquals("push"u8))
                {
                    reader.Read();
                    frame.Push = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("success"u8))
                {
                    reader.Read();
                    frame.Success = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("code"u8))
                {
                    reader.Read();
                    // A string only for an error: "OK" and SERVER_BUSY come back as constants.
                    if (reader.TokenType == JsonTokenType.String) frame.Code = CodeOf(ref reader);
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) ReadData(ref reader, ref frame);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return true;
        }
        catch (JsonException)
        {
            frame = default;
            return false;
        }
    }

    private static string CodeOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("OK"u8) ? ErrorCodes.Ok
        : reader.ValueTextEquals("SERVER_BUSY"u8) ? ErrorCodes.ServerBusy
        : reader.GetString() ?? "NO_CODE";

    private static void ReadId(ReadOnlySpan<byte> id, ref ChatFrame frame)
    {
        if (id.Length < 2 || (id[0] != SendPrefix && id[0] != AckPrefix)) return;
        if (id[1..].ContainsAnyExceptInRange((byte)'0', (byte)'9')) return;
        if (!Utf8Parser.TryParse(id[1..], out long seq, out int used) || used != id.Length - 1) return;
        frame.RequestPrefix = id[0];
        frame.RequestSeq = seq;
    }

    /// <summary>The value after a property name: a whole number into <paramref name="into"/>; anything else leaves it.</summary>
    internal static void ReadInt64(ref Utf8JsonReader reader, ref long into)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long value)) into = value;
    }

    /// <summary>The value after "content": whether it is a string, and whether this run wrote it (then its run id and
    /// send time). Escaped content was not written by a scenario (its content is plain ASCII).</summary>
    internal static bool ReadOurContent(ref Utf8JsonReader reader, out bool isString, out long runId, out long sentUnixMicros)
    {
        reader.Read();
        isString = reader.TokenType == JsonTokenType.String;
        runId = sentUnixMicros = 0;
        return isString && !reader.ValueIsEscaped && ChatContent.TryParseUtf8(reader.ValueSpan, out runId, out sentUnixMicros);
    }

    private static void ReadData(ref Utf8JsonReader reader, ref ChatFrame frame)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message_id"u8)) ReadInt64(ref reader, ref frame.MessageId);
            else if (reader.ValueTextEquals("sender_id"u8)) ReadInt64(ref reader, ref frame.SenderId);
            else if (reader.ValueTextEquals("content"u8))
                frame.OurContent = ReadOurContent(ref reader, out frame.HasContent, out frame.RunId, out frame.SentUnixMicros);
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                frame.Delivered = reader.ValueTextEquals("delivered"u8);
            }
            else if (reader.ValueTextEquals("retry_after_ms"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int ms)) frame.RetryAfterMs = ms;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }
}

public enum ChatAction : byte { Other, Message, MessageStatus }

/// <summary>What <see cref="ChatWire.TryRead"/> found in one frame (0 or null for what it did not hold).</summary>
public struct ChatFrame
{
    public ChatAction Action;
    public bool Push;
    public bool? Success;
    public string? Code;
    /// <summary><see cref="ChatWire.SendPrefix"/> or <see cref="ChatWire.AckPrefix"/> when the request_id is the
    /// scenario's own, else 0.</summary>
    public byte RequestPrefix;
    public long RequestSeq;
    public long MessageId;
    public long SenderId;
    public bool HasContent;
    public bool OurContent;
    public long RunId;
    public long SentUnixMicros;
    public bool Delivered;
    public int RetryAfterMs;
}
