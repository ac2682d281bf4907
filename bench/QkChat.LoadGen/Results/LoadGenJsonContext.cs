using System.Text.Json;
using System.Text.Json.Serialization;

namespace QkChat.LoadGen.Results;

/// <summary>Source-generated JSON for results and worker messages: no reflection, so the AOT binary needs no trimming hints.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(ProgressSnapshot))]
public sealed partial class LoadGenJsonContext : JsonSerializerContext
{
    /// <summary>The same metadata, indented, for the --json file people read.</summary>
    public static LoadGenJsonContext Indented { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    });
}
