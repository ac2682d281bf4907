using System.Text.Json;
using Microsoft.Extensions.ObjectPool;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// A request whose answer is computed elsewhere. Complete it exactly once, from any thread: the response is written
/// on the connection's reactor into the request's place among the connection's answers, and goes out once every
/// earlier answer has, so responses keep request order. If the connection closed meanwhile, the answer is dropped.
/// </summary>
/// <remarks>
/// A pooled one (<see cref="RequestContext.BeginAsync"/> with pooled: the send path, issue 22) goes back to its pool
/// once its answer is written on the reactor: its holder must not touch it after <see cref="Complete{TState}"/>, not
/// even to read <see cref="Session"/>. An answer dropped because the connection closed leaves it to the GC.
/// </remarks>
public sealed class PendingResponse
{
    /// <summary>
    /// Pooled answers kept for reuse: each reactor's connections have at most <see cref="Dispatcher.MaxPipelined"/> each
    /// in flight, and 4,096 cover the sends between two batches at issue 22's 50,000 messages/s with room; more at once
    /// are allocated and left to the GC.
    /// </summary>
    private const int PoolSize = 4096;

    private static readonly ObjectPool<PendingResponse> Pool = new DefaultObjectPool<PendingResponse>(new Policy(), PoolSize);

    // The action and the request_id, copied from the receive buffer: a pooled answer keeps the room for the longest.
    private byte[] _envelope = [];
    private int _actionLength, _requestIdLength;
    private Session _session = null!;
    private AnswerSlot _slot = null!;
    private int _row;
    private long _started;
    private int _completed;
    private bool _pooled;

    private PendingResponse()
    {
    }

    /// <param name="requestIdLength">-1: the request had no request_id.</param>
    internal static PendingResponse Begin(Session session, AnswerSlot slot, ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId,
        bool hasRequestId, int row, long started, bool pooled)
    {
        var pending = pooled ? Pool.Get() : new PendingResponse();
        int needed = action.Length + requestId.Length;
        if (pending._envelope.Length < needed) pending._envelope = new byte[pooled ? Math.Max(needed, EnvelopeBytes) : needed];
        action.CopyTo(pending._envelope);
        requestId.CopyTo(pending._envelope.AsSpan(action.Length));
        pending._actionLength = action.Length;
        pending._requestIdLength = hasRequestId ? requestId.Length : -1;
        pending._session = session;
        pending._slot = slot;
        pending._row = row;
        pending._started = started;
        pending._completed = 0;
        pending._pooled = pooled;
        return pending;
    }

    // The longest action the router looks up and the longest request_id (64 characters of up to 4 UTF-8 bytes).
    private const int EnvelopeBytes = RequestHead.MaxActionBytes + RequestHead.MaxRequestIdChars * 4;

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
        // The answer's parts travel to the reactor in a pooled holder (it was a boxed tuple: ~80 B per answer).
        var answer = Answer<TState>.Rent();
        answer.Pending = this;
        answer.Code = code;
        answer.Message = message;
        answer.State = state;
        answer.WriteData = writeData;
        answer.OnReactor = onReactor;
        _session.Connection.Post(Answer<TState>.Run, answer);
    }

    /// <summary>On the reactor: the answer's frame into its slot, then out with every ready answer in order.</summary>
    private void Write<TState>(Connection connection, Answer<TState> answer)
    {
        var session = (Session)connection.State!;
        answer.OnReactor?.Invoke(session);
        var action = _envelope.AsSpan(0, _actionLength);
        var requestId = _requestIdLength < 0 ? default : _envelope.AsSpan(_actionLength, _requestIdLength);
        _slot.Frame = Frames.Response(action, requestId, _requestIdLength >= 0, answer.Code, answer.Message, answer.State, answer.WriteData);
        // On the connection's reactor, like every other write of its stats; the latency includes the work elsewhere.
        session.CountAnswer(_row, answer.Code, _started);
        answer.Return();
        if (_pooled)
        {
            _session = null!;
            _slot = null!;
            Pool.Return(this);
        }
        Dispatcher.FlushAnswers(connection, session);
    }

    /// <summary>One answer on its way to the reactor, pooled per state type.</summary>
    private sealed class Answer<TState>
    {
        // Answers in flight at once are the pooled PendingResponses' at most; the rest are allocated.
        private static readonly ObjectPool<Answer<TState>> Answers = new DefaultObjectPool<Answer<TState>>(new DefaultPooledObjectPolicy<Answer<TState>>(), PoolSize);

        public static readonly Action<Connection, object?> Run = static (connection, boxed) =>
        {
            var answer = (Answer<TState>)boxed!;
            answer.Pending.Write(connection, answer);
        };

        public PendingResponse Pending = null!;
        public string Code = "";
        public string Message = "";
        public TState State = default!;
        public Action<Utf8JsonWriter, TState>? WriteData;
        public Action<Session>? OnReactor;

        public static Answer<TState> Rent() => Answers.Get();

        public void Return()
        {
            Pending = null!;
            State = default!;
            WriteData = null;
            OnReactor = null;
            Answers.Return(this);
        }
    }

    private sealed class Policy : IPooledObjectPolicy<PendingResponse>
    {
        public PendingResponse Create() => new();

        public bool Return(PendingResponse pending) => true;
    }
}
