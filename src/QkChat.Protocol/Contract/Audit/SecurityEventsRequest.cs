using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>get_security_events' fields (docs/protocol.md, Security events).</summary>
public sealed class SecurityEventsRequest : IRequestBody<SecurityEventsRequest>
{
    [JsonPropertyName("limit")] public int? Limit { get; set; }
    [JsonPropertyName("before")] public long? Before { get; set; }

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<SecurityEventsRequest> Json => SecurityEventsJsonContext.Default.SecurityEventsRequest;
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SecurityEventsRequest))]
public sealed partial class SecurityEventsJsonContext : JsonSerializerContext;
