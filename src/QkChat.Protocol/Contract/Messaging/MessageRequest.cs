using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>The fields of the message actions (each uses a subset); unknown fields are ignored (protocol.md §2).</summary>
public sealed class MessageRequest : IRequestBody<MessageRequest>
{
    [JsonPropertyName("receiver_id")] public long? ReceiverId { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("client_msg_id")] public string? ClientMsgId { get; set; }
    [JsonPropertyName("message_ids")] public long[]? MessageIds { get; set; }
    [JsonPropertyName("message_id")] public long? MessageId { get; set; }
    [JsonPropertyName("chat_user_id")] public long? ChatUserId { get; set; }
    [JsonPropertyName("up_to_message_id")] public long? UpToMessageId { get; set; }
    [JsonPropertyName("limit")] public int? Limit { get; set; }
    [JsonPropertyName("offset")] public int? Offset { get; set; }
    [JsonPropertyName("before_message_id")] public long? BeforeMessageId { get; set; }
    [JsonPropertyName("after_message_id")] public long? AfterMessageId { get; set; }
    [JsonPropertyName("keyword")] public string? Keyword { get; set; }

    /// <summary>send_message of type `file` (protocol.md §10): the file it carries.</summary>
    [JsonPropertyName("file_id")] public long? FileId { get; set; }

    /// <summary>search_messages: only this group's entries (not with <see cref="ChatUserId"/>).</summary>
    [JsonPropertyName("group_id")] public long? GroupId { get; set; }

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<MessageRequest> Json => MessageJsonContext.Default.MessageRequest;
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MessageRequest))]
public sealed partial class MessageJsonContext : JsonSerializerContext;
