using System.Text.Json;
using System.Text.Json.Serialization;

namespace QkChat.Core.Messaging;

/// <summary>The fields of the message actions (each uses a subset); unknown fields are ignored (protocol.md §2).</summary>
public sealed class MessageRequest
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

    /// <summary>The source-generated type information the dispatcher's request reader uses.</summary>
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<MessageRequest> Json => MessageJsonContext.Default.MessageRequest;

    /// <summary>A user id field: a 9-digit number (protocol.md §2).</summary>
    public static string? UserId(long? value, string field) =>
        value is null ? field + ": required"
        : value is < 100_000_000 or > 999_999_999 ? field + ": a 9-digit user id"
        : null;

    /// <summary>A message id field: a positive integer below 2^53.</summary>
    public static string? MessageIdRule(long? value, string field, bool required = true) =>
        value is null ? (required ? field + ": required" : null)
        : value is <= 0 or >= 1L << 53 ? field + ": a positive integer below 2^53"
        : null;

    public static string? LimitRule(int? value, int max) =>
        value is null || (value >= 1 && value <= max) ? null : $"limit: 1-{max}";
}

[JsonSerializable(typeof(MessageRequest))]
internal sealed partial class MessageJsonContext : JsonSerializerContext;
