using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// Per-connection state kept by the dispatcher in Connection.State. Touched only on the connection's reactor.
/// Accounts fill in the user when login lands (issue 4).
/// </summary>
public sealed class Session
{
    public bool LoggedIn { get; set; }
    public uint UserId { get; set; }
    public string? ClientId { get; set; }

    /// <summary>The device label given at login (null after a token resume, which does not carry one): audit rows name it.</summary>
    public string? Device { get; set; }

    internal int ConsecutiveBadFrames;
    internal RateLimiter Rate;

    /// <summary>The request counters of this connection's reactor (set when it opens; only that reactor writes them).</summary>
    internal RequestStats? Stats;

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

    /// <summary>
    /// While the device drains its offline queue: the ids this connection got, live or in an offline batch, so a
    /// message racing the login is not delivered twice (messaging reads the reference from other threads to pick
    /// the checked path; only the reactor touches the set).
    /// </summary>
    internal volatile HashSet<long>? OfflineSeen;

    /// <summary>The last send of this connection that waits for a lookup off the reactor: later sends queue behind it.</summary>
    internal Task? SendChain;

    /// <summary>The drain's last batch went out: the next ack of this device ends the tracking.</summary>
    internal bool OfflineFinalSent;
}

/// <summary>One owed answer; <see cref="Frame"/> is set when it is ready.</summary>
internal sealed class AnswerSlot(bool serial)
{
    public OutboundFrame? Frame;
    public readonly bool Serial = serial;
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
