using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using QkChat.Protocol;

namespace QkChat.Core.Dispatch;

/// <summary>
/// The fields a request type declares, by wire name, with what each must hold; taken once per type from the source
/// generator's metadata, so a field added to a request type is checked without touching this file.
/// </summary>
internal sealed class FieldKinds
{
    private static readonly ConcurrentDictionary<JsonTypeInfo, FieldKinds> Cache = new();

    private readonly (byte[] Utf8Name, Field Field)[] _fields;

    private FieldKinds(JsonTypeInfo info)
    {
        _fields = [.. info.Properties.Select(p => (Encoding.UTF8.GetBytes(p.Name), new Field(p.Name, Describe(p.PropertyType))))];
    }

    public readonly record struct Field(string Name, string Expected);

    public static FieldKinds Of(JsonTypeInfo info) => Cache.GetOrAdd(info, static i => new FieldKinds(i));

    /// <summary>What <paramref name="name"/> must hold, in words for the INVALID_ARGUMENT message.</summary>
    public string Expected(string name)
    {
        foreach (var (_, field) in _fields)
        {
            if (field.Name == name) return field.Expected;
        }
        return "of another type";
    }

    /// <summary>The first declared field that is present at the top level with the value null.</summary>
    public Field? FirstNull(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = RequestHead.MaxDepth });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // The name stays readable until the next Read; only a null value makes it worth comparing.
            var nameReader = reader;
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                foreach (var (utf8Name, field) in _fields)
                {
                    if (nameReader.ValueTextEquals(utf8Name)) return field;
                }
            }
            reader.Skip();
        }
        return null;
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int)) return "an integer (32-bit)";
        if (type == typeof(long)) return "an integer";
        if (type == typeof(long[])) return "an array of integers";
        if (type == typeof(JsonElement)) return "a string or a number";
        return "of type " + type.Name;
    }
}
