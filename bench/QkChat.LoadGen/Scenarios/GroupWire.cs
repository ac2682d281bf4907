using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The group scenario's `group_message` push read from its bytes on the client's read loop, as <see cref="ChatWire"/>
/// reads the chat pushes: no <see cref="Envelope"/>, no JSON document and no hop through the inbox per push. In the
/// many-small-groups shape every entry is 9 pushes, and the generator shares the box with qkchatd and MariaDB: reading
/// each push into a document cost it ~10 µs of CPU per delivery, the largest share of the box's CPU per entry
/// (bench/RESULTS.md, issue 18 (b)).
/// </summary>
public static class GroupWire
{
    private static readonly JsonEncodedText GroupMessageName = JsonEncodedText.Encode(PushNames.GroupMessage);

    /// <summary>
    /// True when <paramref name="body"/> is a `group_message` push with a group_id and a seq; its content is read as
    /// <see cref="ChatContent"/> when it is plain (escaped content was not written by this scenario). False for every
    /// other frame and for a body that is not JSON: those go the client's usual way.
    /// </summary>
    public static bool TryReadPush(ReadOnlySpan<byte> body, out GroupPushFrame frame)
    {
        frame = default;
        bool isPush = false, isGroupMessage = false;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("action"u8))
                {
                    reader.Read();
                    isGroupMessage = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(GroupMessageName.EncodedUtf8Bytes);
                    if (!isGroupMessage) return false; // an answer or another push: the client's usual way
                }
                else if (reader.ValueTextEquals("push"u8))
                {
                    reader.Read();
                    isPush = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) ReadEntry(ref reader, ref frame);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            frame = default;
            return false;
        }
        return isPush && isGroupMessage && frame.GroupId > 0 && frame.Seq > 0;
    }

    private static void ReadEntry(ref Utf8JsonReader reader, ref GroupPushFrame frame)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("group_id"u8)) ChatWire.ReadInt64(ref reader, ref frame.GroupId);
            else if (reader.ValueTextEquals("seq"u8)) ChatWire.ReadInt64(ref reader, ref frame.Seq);
            else if (reader.ValueTextEquals("content"u8))
                frame.OurContent = ChatWire.ReadOurContent(ref reader, out _, out frame.RunId, out frame.SentUnixMicros);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }
}

/// <summary>What the group scenario reads of a `group_message` push.</summary>
public struct GroupPushFrame
{
    public long GroupId;
    public long Seq;
    /// <summary>The content parsed as <see cref="ChatContent"/> (run id and send time).</summary>
    public bool OurContent;
    public long RunId;
    public long SentUnixMicros;
}
