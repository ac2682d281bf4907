using System.Net;
using Microsoft.Extensions.ObjectPool;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// One connection's device as Core knows it: who signed in on it (user, device), where it comes from (address,
/// limit key), and the dispatcher's own per-connection state. Features hold the Session as the identity of "this
/// device" (delivery's except, presence, audit rows, limits); only Dispatch and Routing reach the connection behind
/// it (architecture.md §6), so another listener or node can stand behind a device without features changing.
/// Kept in Connection.State; touched only on the connection's reactor unless a member says otherwise.
/// </summary>
public sealed class Session
{
    private volatile IMessageFilter? _messageFilter;

    internal Session(Connection connection, int slots, RequestStats? stats)
    {
        Connection = connection;
        Slots = slots == 0 ? [] : new object?[slots];
        Stats = stats;
    }

    /// <summary>The connection behind this device: for Dispatch and Routing only (features go through IDelivery).</summary>
    internal Connection Connection { get; }

    /// <summary>The connection's number in this process (unique while it runs): how the device registry tells sessions of
    /// one device apart (docs/cluster.md, "Registry").</summary>
    public long ConnectionId => Connection.Id;

    public bool LoggedIn { get; set; }
    public uint UserId { get; set; }
    public string? ClientId { get; set; }

    /// <summary>The device label given at login (null after a token resume, which does not carry one): audit rows name it.</summary>
    public string? Device { get; set; }

    /// <summary>The client's address (any thread): audit rows and the per-address limits.</summary>
    public IPAddress RemoteAddress => Connection.RemoteAddress;

    /// <summary>The client's limit key (any thread): the IPv4 address or the IPv6 prefix the per-address budgets count.</summary>
    public string LimitKey => Connection.LimitKey;

    /// <summary>Each feature's own state of this device, one slot per <see cref="SessionSlot{T}"/> made at composition.</summary>
    internal readonly object?[] Slots;

    /// <summary>
    /// While set, a push that carries a message id (IDelivery.ToUser's messageId) reaches this device through its
    /// reactor and only if <see cref="IMessageFilter.Admit"/> says so. Messaging sets it while the device drains its
    /// offline queue, so a message that also came in a batch arrives once. Read from any thread to pick that path.
    /// </summary>
    public IMessageFilter? MessageFilter
    {
        get => _messageFilter;
        set => _messageFilter = value;
    }

    /// <summary>
    /// From any thread: runs <paramref name="work"/> on this device's reactor, after what was posted there before,
    /// unless the connection has closed by then. The place to touch a feature's state of the device without a lock.
    /// </summary>
    public void Post(Action<Session, object?> work, object? state) => Connection.Post(PostedWork.Run, PostedWork.Rent(work, state));

    /// <summary>
    /// On the reactor: closes the connection once what is queued for it has gone out, including an answer being
    /// written in this reactor step (the close is posted behind it), so the client reads the answer, then EOF.
    /// </summary>
    public void CloseAfterAnswer() => Connection.Post(static (c, _) => c.CloseAfterFlush(CloseReason.Requested), null);

    internal int ConsecutiveBadFrames;
    internal RateLimiter Rate;

    /// <summary>The request counters of this connection's reactor (set when it opens; only that reactor writes them).</summary>
    internal readonly RequestStats? Stats;

    /// <summary>Counts an answered request; <paramref name="started"/> 0 means it was read with metrics off. Reactor only.</summary>
    internal void CountAnswer(int row, string code, long started)
    {
        if (started != 0) Stats?.Record(row, code, System.Diagnostics.Stopwatch.GetTimestamp() - started);
    }

    /// <summary>
    /// Answers owed in request order, oldest first, while any request is answered later (PendingResponse): a later
    /// answer that is ready waits here for the earlier ones. Null or empty: answers go out at once.
    /// </summary>
    internal Queue<AnswerSlot>? Answers;

    /// <summary>Requests in <see cref="Answers"/> that hold input back until answered (not pipelined).</summary>
    internal int SerialAnswers;
}

/// <summary>A device's own check of a push that carries a message id (<see cref="Session.MessageFilter"/>).</summary>
public interface IMessageFilter
{
    /// <summary>On the device's reactor: true to send the push, false to drop it (the device already has that message).</summary>
    bool Admit(long messageId);
}

/// <summary>
/// One owed answer; <see cref="Frame"/> is set when it is ready. Pooled: rented when a place among the answers is
/// reserved, returned on the reactor when its frame has gone out or the connection closed (nothing holds it after).
/// </summary>
internal sealed class AnswerSlot
{
    // As many as PendingResponse keeps, plus ready answers waiting behind them; more at once are allocated.
    private static readonly ObjectPool<AnswerSlot> Pool = new DefaultObjectPool<AnswerSlot>(new DefaultPooledObjectPolicy<AnswerSlot>(), 4096);

    public OutboundFrame? Frame;
    public bool Serial;

    public static AnswerSlot Rent(bool serial)
    {
        var slot = Pool.Get();
        slot.Serial = serial;
        return slot;
    }

    public void Return()
    {
        Frame = null;
        Pool.Return(this);
    }
}

/// <summary>A <see cref="Session.Post"/> on its way to the reactor (it was a boxed tuple), pooled.</summary>
internal sealed class PostedWork
{
    // Posts in flight at once: a login's offline batch and its acks, a handful per device; more are allocated.
    private static readonly ObjectPool<PostedWork> Pool = new DefaultObjectPool<PostedWork>(new DefaultPooledObjectPolicy<PostedWork>(), 1024);

    public static readonly Action<Connection, object?> Run = static (connection, boxed) =>
    {
        var posted = (PostedWork)boxed!;
        var (work, state) = (posted._work!, posted._state);
        posted._work = null;
        posted._state = null;
        Pool.Return(posted);
        work((Session)connection.State!, state);
    };

    private Action<Session, object?>? _work;
    private object? _state;

    public static PostedWork Rent(Action<Session, object?> work, object? state)
    {
        var posted = Pool.Get();
        posted._work = work;
        posted._state = state;
        return posted;
    }
}

/// <summary>A token bucket per connection: <c>rate</c> requests per second sustained, <c>burst</c> at once.</summary>
internal struct RateLimiter
{
    private double _tokens;
    private long _last;

    public void Init(int burst, long now)
    {
        _tokens = burst;
        _last = now;
    }

    /// <summary>Takes a token, or returns false with the milliseconds until one is available.</summary>
    public bool TryTake(int rate, int burst, long now, out int retryAfterMs)
    {
        _tokens = Math.Min(burst, _tokens + (now - _last) * rate / 1000.0);
        _last = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            retryAfterMs = 0;
            return true;
        }
        retryAfterMs = (int)Math.Ceiling((1 - _tokens) * 1000.0 / rate);
        return false;
    }
}
