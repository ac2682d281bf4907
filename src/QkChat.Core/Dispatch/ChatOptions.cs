namespace QkChat.Core.Dispatch;

/// <summary>Session rules the dispatcher enforces; the server fills them from its configuration (docs/configuration.md).</summary>
public sealed class ChatOptions
{
    public int MaxFrameBytes { get; set; } = 65_536;
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
}
