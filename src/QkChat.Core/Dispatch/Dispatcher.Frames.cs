using System.Diagnostics;
using System.Text.Json;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

public sealed partial class Dispatcher
{
    /// <summary>
    /// Most requests a connection may have answered later at once (pipelined sends); past it its input waits. 32 keep
    /// a client's window well inside one reactor pass while letting a burst of sends share one batch and one syscall.
    /// </summary>
    public const int MaxPipelined = 32;

    /// <param name="row">The request's row in the metrics (<see cref="RequestStats"/>).</param>
    /// <param name="started">Stopwatch timestamp taken when the request was read; 0 when metrics are off.</param>
    internal void Respond<TState>(Connection connection, ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, string code, string message, TState state, Action<Utf8JsonWriter, TState>? writeData, int row, long started)
    {
        var frame = BuildResponse(action, requestId, hasRequestId, code, message, state, writeData);
        var session = (Session)connection.State!;
        session.CountAnswer(row, code, started);
        // Behind an answer still owed, this one waits its turn (protocol.md §2: answers in request order).
        if (session.Answers is { Count: > 0 } owed) owed.Enqueue(new AnswerSlot(serial: false) { Frame = frame });
        else connection.Send(frame);
    }

    internal static OutboundFrame BuildResponse<TState>(ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, string code, string message, TState state, Action<Utf8JsonWriter, TState>? writeData)
    {
        var frame = BeginFrame(out var writer);
        EnvelopeWriter.BeginResponse(writer, action, requestId, hasRequestId, code, message);
        if (writeData is not null)
        {
            writer.WriteStartObject("data"u8);
            writeData(writer, state);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        return EndFrame(frame, writer);
    }

    /// <summary>Sends the answers that are ready in order, and lets input flow again when nothing holds it back.</summary>
    internal static void FlushAnswers(Connection connection, Session session)
    {
        var owed = session.Answers!;
        while (owed.Count > 0 && owed.Peek().Frame is { } frame)
        {
            if (owed.Dequeue().Serial) session.SerialAnswers--;
            connection.Send(frame);
        }
        if (connection.IsPaused && session.SerialAnswers == 0 && owed.Count < MaxPipelined) connection.PostResume();
    }

    /// <summary>A closed connection's ready answers go nowhere: their frames return to the pool.</summary>
    internal static void DropAnswers(Session session)
    {
        if (session.Answers is not { } owed) return;
        while (owed.TryDequeue(out var slot)) slot.Frame?.Release();
        session.SerialAnswers = 0;
    }

    internal void Respond(Connection connection, ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, string code, string message, int row, long started) =>
        Respond<object?>(connection, action, requestId, hasRequestId, code, message, null, null, row, started);

    /// <summary>A push frame (one reference, owned by the caller), serialized once whatever the number of receivers.</summary>
    public static OutboundFrame CreatePush<TState>(string action, TState state, Action<Utf8JsonWriter, TState> writeData)
    {
        var frame = BeginFrame(out var writer);
        Span<byte> name = stackalloc byte[RequestHead.MaxActionBytes];
        int length = System.Text.Encoding.UTF8.GetBytes(action, name);
        EnvelopeWriter.BeginPush(writer, name[..length]);
        writeData(writer, state);
        EnvelopeWriter.EndPush(writer);
        return EndFrame(frame, writer);
    }

    /// <summary>The `error` push, then close after it is flushed (protocol.md §1, §6).</summary>
    public static void SendErrorAndClose(Connection connection, string code, string message, CloseReason reason = CloseReason.ProtocolError)
    {
        var frame = BeginFrame(out var writer);
        EnvelopeWriter.WriteErrorPush(writer, code, message);
        connection.Send(EndFrame(frame, writer));
        connection.CloseAfterFlush(reason);
    }

    /// <summary>The whole `error` SERVER_BUSY frame that the transport sends to connections over a limit.</summary>
    public static byte[] CreateBusyFrame()
    {
        var frame = BeginFrame(out var writer);
        EnvelopeWriter.WriteErrorPush(writer, ErrorCodes.ServerBusy, "the server is at its connection limit; retry later");
        var done = EndFrame(frame, writer);
        byte[] bytes = done.Memory.ToArray();
        done.Release();
        return bytes;
    }

    public OutboundFrame CreateShutdownPush() =>
        CreatePush(PushNames.ServerShutdown, _options.ReconnectAfterMs, static (w, ms) => w.WriteNumber("reconnect_after_ms"u8, ms));

    /// <summary>Rents a frame with room for the length header and points this thread's JSON writer at it.</summary>
    private static OutboundFrame BeginFrame(out Utf8JsonWriter writer)
    {
        var frame = OutboundFrame.Rent();
        frame.GetSpan(Framing.HeaderSize);
        frame.Advance(Framing.HeaderSize);
        writer = t_writer ??= new Utf8JsonWriter(frame, EnvelopeWriter.WriterOptions);
        writer.Reset(frame);
        return frame;
    }

    private static OutboundFrame EndFrame(OutboundFrame frame, Utf8JsonWriter writer)
    {
        writer.Flush();
        Framing.WriteHeader(frame.WrittenSpan, frame.Length - Framing.HeaderSize);
        return frame;
    }
}
