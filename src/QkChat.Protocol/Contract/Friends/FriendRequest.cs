using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>The fields of every friend action (each uses a subset); unknown fields are ignored (protocol.md §2).</summary>
public sealed class FriendRequest : IRequestBody<FriendRequest>
{
    [JsonPropertyName("query")] public string? Query { get; set; }
    [JsonPropertyName("limit")] public int? Limit { get; set; }

    // A string (username, e-mail or 9 digits) or a JSON number: FriendRules.Identifier decides.
    [JsonPropertyName("user_identifier")] public JsonElement? UserIdentifier { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("friend_request_id")] public long? FriendRequestId { get; set; }
    [JsonPropertyName("accept")] public bool? Accept { get; set; }
    [JsonPropertyName("friend_id")] public long? FriendId { get; set; }
    [JsonPropertyName("after_user_id")] public long? AfterUserId { get; set; }

    // protocol.md §7.
    [JsonPropertyName("user_id")] public long? UserId { get; set; }
    [JsonPropertyName("remark")] public string? Remark { get; set; }
    [JsonPropertyName("group_id")] public long? CategoryId { get; set; }
    [JsonPropertyName("group_name")] public string? CategoryName { get; set; }
    [JsonPropertyName("new_name")] public string? NewName { get; set; }

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<FriendRequest> Json => FriendJsonContext.Default.FriendRequest;
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FriendRequest))]
public sealed partial class FriendJsonContext : JsonSerializerContext;
