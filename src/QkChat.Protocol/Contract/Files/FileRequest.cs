using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>The fields of file_upload_init and get_file_url (protocol.md §10); unknown fields are ignored (protocol.md §2).</summary>
public sealed class FileRequest : IRequestBody<FileRequest>
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("size")] public long? Size { get; set; }
    [JsonPropertyName("sha256")] public string? Sha256 { get; set; }
    [JsonPropertyName("mime")] public string? Mime { get; set; }
    [JsonPropertyName("file_id")] public long? FileId { get; set; }

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<FileRequest> Json => FileJsonContext.Default.FileRequest;
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FileRequest))]
public sealed partial class FileJsonContext : JsonSerializerContext;
