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

    internal RequestContext(Dispatcher dispatcher, Connection connection, Session session, ReadOnlySpan<byte> body,
        ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId, bool hasRequestId)
    {
        _dispatcher = dispatcher;
        Connection = connection;
        Session = session;
        Body = body;
        Action = action;
        _requestId = requestId;
        _hasRequestId = hasRequestId;
    }

    public Connection Connection { get; }
    public Session Session { get; }
    public ReadOnlySpan<byte> Body { get; }
    public ReadOnlySpan<byte> Action { get; }

    /// <summary>Sends the response; <paramref name="writeData"/> (optional) writes the members of `data`.</summary>
    public void Respond<TState>(string code, string message, TState state, Action<Utf8JsonWriter, TState>? writeData) =>
        _dispatcher.Respond(Connection, Action, _requestId, _hasRequestId, code, message, state, writeData);

    public void Respond(string code, string message) =>
        _dispatcher.Respond<object?>(Connection, Action, _requestId, _hasRequestId, code, message, null, null);

    /// <summary>
    /// For a request served off the reactor (database, hashing): copies what the response needs, pauses the
    /// connection's input so later requests wait their turn, and returns the handle that answers it later.
    /// </summary>
    public PendingResponse BeginAsync()
    {
        Connection.Pause();
        return new PendingResponse(_dispatcher, Connection, Action.ToArray(), _hasRequestId ? _requestId.ToArray() : null);
    }
}
