using System.Text.Json;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// One request being handled: the connection, its session, the raw body, and helpers that write the single
/// response protocol.md §2 requires. Valid only during the handler call (the body points into the receive buffer).
/// </summary>
public readonly ref struct RequestContext
{
    private readonly Dispatcher _dispatcher;
    private readonly ReadOnlySpan<byte> _requestId;
    private readonly bool _hasRequestId;
    private readonly int _row;
    private readonly long _started;

    /// <param name="row">The route's row in the request metrics; <paramref name="started"/> its start (0: not measured).</param>
    internal RequestContext(Dispatcher dispatcher, Connection connection, Session session, ReadOnlySpan<byte> body,
        ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId, bool hasRequestId, int row, long started)
    {
        _row = row;
        _started = started;
        _dispatcher = dispatcher;
        Connection = connection;
        Session = session;
        Body = body;
        Action = action;
        _requestId = requestId;
        _hasRequestId = hasRequestId;
    }

    /// <summary>The transport's connection: for Dispatch and transport tests; features use <see cref="Session"/>.</summary>
    public Connection Connection { get; }

    /// <summary>The requesting device: its user, device, address and limit key.</summary>
    public Session Session { get; }
    public ReadOnlySpan<byte> Body { get; }
    public ReadOnlySpan<byte> Action { get; }

    /// <summary>Sends the response; <paramref name="writeData"/> (optional) writes the members of `data`.</summary>
    public void Respond<TState>(string code, string message, TState state, Action<Utf8JsonWriter, TState>? writeData) =>
        _dispatcher.Respond(Connection, Action, _requestId, _hasRequestId, code, message, state, writeData, _row, _started);

    public void Respond(string code, string message) =>
        _dispatcher.Respond<object?>(Connection, Action, _requestId, _hasRequestId, code, message, null, null, _row, _started);

    /// <summary>
    /// For a request served off the reactor (database, hashing): copies what the response needs, reserves its place
    /// among the connection's answers, and returns the handle that answers it later. A serial request (the default)
    /// holds the connection's input back until it is answered, so the next request sees its effect (a login before
    /// anything else); a <paramref name="pipelined"/> one lets later requests run meanwhile (up to
    /// <see cref="Dispatcher.MaxPipelined"/>), and its answer still goes out in request order. A <paramref name="pooled"/>
    /// handle comes from a pool and returns to it once answered: only for a caller that never touches it after its
    /// Complete (the send path; see <see cref="PendingResponse"/>).
    /// </summary>
    public PendingResponse BeginAsync(bool pipelined = false, bool pooled = false)
    {
        var slot = AnswerSlot.Rent(serial: !pipelined);
        var owed = Session.Answers ??= new Queue<AnswerSlot>();
        owed.Enqueue(slot);
        if (!pipelined) Session.SerialAnswers++;
        if (!pipelined || owed.Count >= Dispatcher.MaxPipelined) Connection.Pause();
        return PendingResponse.Begin(Session, slot, Action, _requestId, _hasRequestId, _row, _started, pooled);
    }
}
