using System.Globalization;
using System.Text.Json;

namespace QkChat.Cli;

/// <summary>Lenient readers for response and push data: a missing or ill-typed field reads as null, never throws.</summary>
internal static class Json
{
    public static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    public static JsonElement? Get(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string? Str(this JsonElement e, string name) => e.Get(name) is { } v
        ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            _ => null,
        }
        : null;

    public static long? Long(this JsonElement e, string name) => e.Get(name) is { } v
        ? v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt64(out long n) => n,
            JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) => n,
            _ => null,
        }
        : null;

    public static bool Bool(this JsonElement e, string name) => e.Get(name) is { ValueKind: JsonValueKind.True };

    /// <summary>The array named <paramref name="name"/>, or nothing.</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray() : [];
}
