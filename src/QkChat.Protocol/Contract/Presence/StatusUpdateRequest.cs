using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>status_update's fields (protocol.md §5).</summary>
public sealed class StatusUpdateRequest : IRequestBody<StatusUpdateRequest>
{
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("client_id")] public string? ClientId { get; set; }

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<StatusUpdateRequest> Json => PresenceJsonContext.Default.StatusUpdateRequest;
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatusUpdateRequest))]
public sealed partial class PresenceJsonContext : JsonSerializerContext;
