using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using QkChat.Protocol;

namespace QkChat.Core.Dispatch;

/// <summary>
/// Reads a request body into its source-generated request type and applies field rules in order (protocol.md §2:
/// field rules first; INVALID_ARGUMENT names the field). Unknown fields are ignored.
/// </summary>
public static class RequestFields
{
    /// <summary>The body as <typeparamref name="T"/>; on an ill-typed field null and the field's name.</summary>
    public static T? Read<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> info, out string? badField) where T : class, new()
    {
        badField = null;
        try
        {
            return JsonSerializer.Deserialize(body, info) ?? new T();
        }
        catch (JsonException e)
        {
            // Path is "$.field" (or "$.field[3]" in an array) for a wrong type; the envelope was already validated,
            // so this is the only cause.
            badField = e.Path is { Length: > 2 } path ? path[2..].Split('[')[0] : "body";
            return null;
        }
    }

    /// <summary>Reads the body and applies <paramref name="rules"/>; answers INVALID_ARGUMENT and returns null on the first bad field.</summary>
    public static T? Parse<T>(RequestContext ctx, JsonTypeInfo<T> info, params ReadOnlySpan<Func<T, string?>> rules) where T : class, new()
    {
        var request = Read(ctx.Body, info, out string? badField);
        if (request is null)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, $"{badField}: wrong type");
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
}
