using System.Text.Json;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// A request whose answer is computed elsewhere. Complete it exactly once, from any thread: the response is written
/// on the connection's reactor into the request's place among the connection's answers, and goes out once every
/// earlier answer has, so responses keep request order. If the connection closed meanwhile, the answer is dropped.
/// </summary>
public sealed class PendingResponse
{
    private readonly Session _session;
    private readonly AnswerSlot _slot;
    private readonly byte[] _action;
    private readonly byte[]? _requestId;
    private readonly int _row;
    private readonly long _started;
    private int _completed;

    internal PendingResponse(Session session, AnswerSlot slot, byte[] action, byte[]? requestId, int row, long started)
    {
        _row = row;
        _started = started;
        _session = session;
        _slot = slot;
        _action = action;
        _requestId = requestId;
    }

    /// <summary>The device that asked (delivery's except for the sender's own device, the offline drain).</summary>
    public Session Session => _session;

    public void Complete(string code, string message) => Complete<object?>(code, message, null, null);

    /// <summary>
    /// Answers the request. <paramref name="onReactor"/>, when given, runs first on the connection's reactor (only
    /// if it is still open): the place to change session state, e.g. mark it logged in.
    /// </summary>
    public void Complete<TState>(string code, string message, TState state, Action<Utf8JsonWriter, TState>? writeData,
        Action<Session>? onReactor = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0) throw new InvalidOperationException("a request is answered once");
        _session.Connection.Post(static (connection, boxed) =>
        {
            var (self, code, message, state, writeData, onReactor) =
                ((PendingResponse, string, string, TState, Action<Utf8JsonWriter, TState>?, Action<Session>?))boxed!;
            var session = (Session)connection.State!;
            onReactor?.Invoke(session);
            self._slot.Frame = Frames.Response(self._action, self._requestId, self._requestId is not null, code, message, state, writeData);
            // On the connection's reactor, like every other write of its stats; the latency includes the work elsewhere.
            session.CountAnswer(self._row, code, self._started);
            Dispatcher.FlushAnswers(connection, session);
        }, (this, code, message, state, writeData, onReactor));
    }
}
