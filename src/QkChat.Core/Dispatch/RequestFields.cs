using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using QkChat.Protocol;

namespace QkChat.Core.Dispatch;

/// <summary>
/// The one place request fields are read: the body into its source-generated request type, then the field rules in
/// order (protocol.md §2: field rules first; INVALID_ARGUMENT names the field). A field that is present has to have
/// its type: a string, an integer, true/false, an array of integers as the request type says; null is never a
/// value (a missing field takes its documented default, a null one is INVALID_ARGUMENT). Unknown fields are ignored.
/// Strings are safe to read: the dispatcher already answered BAD_JSON to any lone surrogate (RequestHead).
/// </summary>
public static class RequestFields
{
    /// <summary>The body as <typeparamref name="T"/>; on an ill-typed field null and the problem, starting with the field's name.</summary>
    public static T? Read<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> info, out string? problem) where T : class, new()
    {
        var fields = FieldKinds.Of(info);
        if (fields.FirstNull(body) is { } nullField)
        {
            problem = $"{nullField.Name}: must be {nullField.Expected}, not null";
            return null;
        }
        try
        {
            problem = null;
            return JsonSerializer.Deserialize(body, info) ?? new T();
        }
        catch (JsonException e)
        {
            // Path is "$.field" (or "$.field[3]" in an array) for a wrong type; the envelope was already validated,
            // so this is the only cause.
            string name = e.Path is { Length: > 2 } path ? path[2..].Split('[')[0] : "body";
            problem = $"{name}: must be {fields.Expected(name)}";
            return null;
        }
    }

    /// <summary>Reads the body and applies <paramref name="rules"/>; answers INVALID_ARGUMENT and returns null on the first bad field.</summary>
    public static T? Parse<T>(RequestContext ctx, JsonTypeInfo<T> info, params ReadOnlySpan<Func<T, string?>> rules) where T : class, new()
    {
        var request = Read(ctx.Body, info, out string? typeProblem);
        if (request is null)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, typeProblem!);
            return null;
        }
        foreach (var rule in rules)
        {
            if (rule(request) is { } problem)
            {
                ctx.Respond(ErrorCodes.InvalidArgument, problem);
                return null;
            }
        }
        return request;
    }

    /// <summary>
    /// Whether <paramref name="name"/>, if present at the top level, is a string; for a request type-checked without
    /// being read (heartbeat's client_id), so that it allocates nothing.
    /// </summary>
    public static bool IsStringIfPresent(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = RequestHead.MaxDepth });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool match = reader.ValueTextEquals(name);
            reader.Read();
            if (match && reader.TokenType != JsonTokenType.String) return false;
            reader.Skip();
        }
        return true;
    }
}
