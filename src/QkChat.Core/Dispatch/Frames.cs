using System.Text.Json;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// Builds every outbound message (protocol.md §2): responses, pushes, the `error` push. Each is written once with
/// this thread's reused <see cref="Utf8JsonWriter"/> into a pooled <see cref="OutboundFrame"/>; the frame is finished
/// (its header written by the transport's codec) before it is returned, so a push may be shared by many receivers.
/// This class writes bodies only: no length prefix and no other framing is known here.
/// </summary>
public static class Frames
{
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>A response to a request (the `data` object is written by <paramref name="writeData"/> when given).</summary>
    public static OutboundFrame Response<TState>(ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, string code, string message, TState state, Action<Utf8JsonWriter, TState>? writeData)
    {
        var frame = Begin(out var writer);
        EnvelopeWriter.BeginResponse(writer, action, requestId, hasRequestId, code, message);
        if (writeData is not null)
        {
            writer.WriteStartObject("data"u8);
            writeData(writer, state);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        return End(frame, writer);
    }

    /// <summary>A push frame (one reference, owned by the caller), serialized once whatever the number of receivers.</summary>
    public static OutboundFrame CreatePush<TState>(string action, TState state, Action<Utf8JsonWriter, TState> writeData)
    {
        var frame = Begin(out var writer);
        Span<byte> name = stackalloc byte[RequestHead.MaxActionBytes];
        int length = System.Text.Encoding.UTF8.GetBytes(action, name);
        EnvelopeWriter.BeginPush(writer, name[..length]);
        writeData(writer, state);
        EnvelopeWriter.EndPush(writer);
        return End(frame, writer);
    }

    /// <summary>The `error` push sent before the server closes a connection (protocol.md §1, §6).</summary>
    public static OutboundFrame ErrorPush(string code, string message)
    {
        var frame = Begin(out var writer);
        EnvelopeWriter.WriteErrorPush(writer, code, message);
        return End(frame, writer);
    }

    /// <summary>The body of the `error` SERVER_BUSY push that the transport sends to connections over a limit.</summary>
    public static byte[] BusyBody()
    {
        var frame = ErrorPush(ErrorCodes.ServerBusy, "the server is at its connection limit; retry later");
        byte[] body = frame.Memory.ToArray();
        frame.Release();
        return body;
    }

    /// <summary>The `server_shutdown` push (protocol.md §6), built once and sent to every connection.</summary>
    public static OutboundFrame ShutdownPush(int reconnectAfterMs) =>
        CreatePush(PushNames.ServerShutdown, reconnectAfterMs, static (w, ms) => w.WriteNumber("reconnect_after_ms"u8, ms));

    /// <summary>Rents a frame and points this thread's JSON writer at its body.</summary>
    private static OutboundFrame Begin(out Utf8JsonWriter writer)
    {
        var frame = OutboundFrame.Rent();
        writer = t_writer ??= new Utf8JsonWriter(frame, EnvelopeWriter.WriterOptions);
        writer.Reset(frame);
        return frame;
    }

    private static OutboundFrame End(OutboundFrame frame, Utf8JsonWriter writer)
    {
        writer.Flush();
        return frame.Finish();
    }
}
