namespace QkChat.Server.Configuration;

/// <summary>
/// How long qkchatd waits at start and at stop (startup.retry_s, server.shutdown_timeout_s): the option registry
/// binds them to these properties, whose initializers are the defaults.
/// </summary>
public sealed class LifecycleOptions
{
    /// <summary>
    /// 10 s: a healthy client flushes its last frames in milliseconds; 10 s plus mail.drain_timeout_s (5 s) stays
    /// below the packaged unit's TimeoutStopSec=30s (docs/packaging.md).
    /// </summary>
    public int ShutdownTimeoutSeconds { get; set; } = 10;

    /// <summary>15 s: room for a MariaDB or Redis started in the same boot to come up; a judgement, not a measurement.</summary>
    public int StartupRetrySeconds { get; set; } = 15;
}
