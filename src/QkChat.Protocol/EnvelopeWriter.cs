using System.Text.Encodings.Web;
using System.Text.Json;

namespace QkChat.Protocol;

/// <summary>
/// Writes responses and pushes (protocol.md §2) with Utf8JsonWriter: no reflection, no intermediate objects.
/// The caller supplies the writer (reused per thread) and writes `data` members between Begin and End.
/// </summary>
public static class EnvelopeWriter
{
    /// <summary>
    /// Relaxed escaping keeps non-ASCII text (Chinese chat) as UTF-8 instead of \uXXXX, a third of the bytes.
    /// Safe here: frames are JSON for clients, never embedded into HTML by the server.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
        Indented = false,
    };

    /// <summary>Starts a response; returns with the writer inside the root object (before `data`).</summary>
    public static void BeginResponse(Utf8JsonWriter writer, ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, string code, string message)
    {
        writer.WriteStartObject();
        if (action.IsEmpty) writer.WriteNull("action"u8);
        else writer.WriteString("action"u8, action);
        if (hasRequestId) writer.WriteString("request_id"u8, requestId);
        writer.WriteBoolean("success"u8, code == ErrorCodes.Ok);
        writer.WriteString("code"u8, code);
        writer.WriteString("message"u8, message);
    }

    /// <summary>Starts a push; returns with the writer inside `data`.</summary>
    public static void BeginPush(Utf8JsonWriter writer, ReadOnlySpan<byte> action)
    {
        writer.WriteStartObject();
        writer.WriteString("action"u8, action);
        writer.WriteBoolean("push"u8, true);
        writer.WriteStartObject("data"u8);
    }

    /// <summary>Closes a push (its `data` and the root object).</summary>
    public static void EndPush(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The `error` push sent before the server closes a connection.</summary>
    public static void WriteErrorPush(Utf8JsonWriter writer, string code, string message)
    {
        BeginPush(writer, PushNames.ErrorUtf8);
        writer.WriteString("code"u8, code);
        writer.WriteString("message"u8, message);
        EndPush(writer);
    }
}
