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
        var frame = Frames.Response(action, requestId, hasRequestId, code, message, state, writeData);
        var session = (Session)connection.State!;
        session.CountAnswer(row, code, started);
        // Behind an answer still owed, this one waits its turn (protocol.md §2: answers in request order).
        if (session.Answers is { Count: > 0 } owed)
        {
            var slot = AnswerSlot.Rent(serial: false);
            slot.Frame = frame;
            owed.Enqueue(slot);
        }
        else connection.Send(frame);
    }

    /// <summary>Sends the answers that are ready in order, and lets input flow again when nothing holds it back.</summary>
    internal static void FlushAnswers(Connection connection, Session session)
    {
        var owed = session.Answers!;
        while (owed.Count > 0 && owed.Peek().Frame is { } frame)
        {
            var slot = owed.Dequeue();
            if (slot.Serial) session.SerialAnswers--;
            slot.Return();
            connection.Send(frame);
        }
        if (connection.IsPaused && session.SerialAnswers == 0 && owed.Count < MaxPipelined) connection.PostResume();
    }

    /// <summary>A closed connection's ready answers go nowhere: their frames return to the pool.</summary>
    internal static void DropAnswers(Session session)
    {
        if (session.Answers is not { } owed) return;
        while (owed.TryDequeue(out var slot))
        {
            slot.Frame?.Release();
            // Its PendingResponse, if still unanswered, never writes it: answers to a closed connection do not run.
            slot.Return();
        }
        session.SerialAnswers = 0;
    }

    internal void Respond(Connection connection, ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, string code, string message, int row, long started) =>
        Respond<object?>(connection, action, requestId, hasRequestId, code, message, null, null, row, started);

    /// <summary>The `error` push, then close after it is flushed (protocol.md §1, §6).</summary>
    public static void SendErrorAndClose(Connection connection, string code, string message, CloseReason reason = CloseReason.ProtocolError)
    {
        connection.Send(Frames.ErrorPush(code, message));
        connection.CloseAfterFlush(reason);
    }

    public OutboundFrame CreateShutdownPush() => Frames.ShutdownPush(_options.ReconnectAfterMs);
}
