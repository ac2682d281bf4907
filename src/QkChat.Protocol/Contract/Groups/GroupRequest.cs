using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>
/// The fields of the group chat actions (protocol.md §9; each action uses a subset); unknown fields are ignored
/// (protocol.md §2). Ids are JSON integers; `role` is `admin` or `member`.
/// </summary>
public sealed class GroupRequest : IRequestBody<GroupRequest>
{
    [JsonPropertyName("group_id")] public long? GroupId { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("member_ids")] public long[]? MemberIds { get; set; }
    [JsonPropertyName("user_ids")] public long[]? UserIds { get; set; }
    [JsonPropertyName("user_id")] public long? UserId { get; set; }
    [JsonPropertyName("role")] public string? Role { get; set; }
    [JsonPropertyName("limit")] public int? Limit { get; set; }
    [JsonPropertyName("after_user_id")] public long? AfterUserId { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("client_msg_id")] public string? ClientMsgId { get; set; }
    [JsonPropertyName("before_seq")] public long? BeforeSeq { get; set; }
    [JsonPropertyName("after_seq")] public long? AfterSeq { get; set; }
    [JsonPropertyName("up_to_seq")] public long? UpToSeq { get; set; }
    [JsonPropertyName("seq")] public long? Seq { get; set; }

    /// <summary>send_group_message of type `file` (protocol.md §10): the file it carries.</summary>
    [JsonPropertyName("file_id")] public long? FileId { get; set; }

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<GroupRequest> Json => GroupJsonContext.Default.GroupRequest;
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GroupRequest))]
public sealed partial class GroupJsonContext : JsonSerializerContext;
