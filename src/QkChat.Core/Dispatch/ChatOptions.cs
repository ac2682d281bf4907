namespace QkChat.Core.Dispatch;

/// <summary>
/// Session rules the dispatcher enforces. The defaults written here are the server's defaults: qkchatd's option
/// registry binds its keys (the timeouts, the rate limit, metrics.enabled) to these
/// properties, and the server hands a copy (<see cref="Copy"/>) to the dispatcher.
/// </summary>
public sealed class ChatOptions
{
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);
    public int RequestsPerSecond { get; set; } = 100;
    public int RequestBurst { get; set; } = 200;

    /// <summary>
    /// BAD_JSON answers in a row before the connection is closed ("repeated abuse may close it", protocol.md §1).
    /// 10 forgives a buggy client's occasional bad frame but not a stream of garbage.
    /// </summary>
    public int MaxConsecutiveBadFrames { get; set; } = 10;

    /// <summary>
    /// Count and time every request by action and result code (metrics.enabled). Off skips the timestamp read and
    /// the increments on the request path: one branch, which the metrics-overhead benchmark compares against on.
    /// Read once per request, so a reload takes effect at the next one.
    /// </summary>
    public bool MetricsEnabled { get; set; } = true;

    /// <summary>Sent in server_shutdown; clients should add their own jitter so a restart is not a stampede.</summary>
    public int ReconnectAfterMs { get; set; } = 3000;

    /// <summary>A copy: the dispatcher's own object, which a reload then changes without touching the source.</summary>
    public ChatOptions Copy() => (ChatOptions)MemberwiseClone();
}
