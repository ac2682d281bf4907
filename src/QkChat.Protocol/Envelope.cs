using System.Text.Json.Serialization;

namespace QkChat.Protocol;

/// <summary>
/// A response or push as a client reads it (protocol.md §2). The server writes envelopes with Utf8JsonWriter on its
/// hot path; clients, tests and the load generator read them through <see cref="ProtocolJsonContext"/>.
/// </summary>
public sealed class Envelope
{
    [JsonPropertyName("action")] public string? Action { get; set; }
    [JsonPropertyName("request_id")] public string? RequestId { get; set; }
    [JsonPropertyName("push")] public bool Push { get; set; }
    [JsonPropertyName("success")] public bool? Success { get; set; }
    [JsonPropertyName("code")] public string? Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("data")] public System.Text.Json.JsonElement? Data { get; set; }
}

/// <summary>Source-generated (AOT-safe, reflection-free) JSON metadata for the protocol's types.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Envelope))]
[JsonSerializable(typeof(string))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
