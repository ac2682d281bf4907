namespace QkChat.Core.Audit;

/// <summary>
/// The audit log's knobs. Every one may change at run time (a SIGHUP reload writes them from another thread), so
/// each is a volatile field: readers on reactors and on the writer see a whole value without a lock. The defaults
/// written here are the server's defaults: qkchatd's option registry binds audit.* to these properties.
/// </summary>
public sealed class AuditOptions
{
    private volatile bool _enabled = true;
    private volatile int _queueCapacity = 10_000;
    private volatile int _batchSize = 500;
    private volatile int _retentionDays = 90;

    /// <summary>Off: events are neither recorded nor counted (the storm benchmark's "audit off" run).</summary>
    public bool Enabled { get => _enabled; set => _enabled = value; }

    /// <summary>Events waiting for the writer; beyond it an event is dropped and counted.</summary>
    public int QueueCapacity { get => _queueCapacity; set => _queueCapacity = value; }

    /// <summary>Most rows one INSERT stores.</summary>
    public int BatchSize { get => _batchSize; set => _batchSize = value; }

    /// <summary>Rows older than this are deleted by the retention job.</summary>
    public int RetentionDays { get => _retentionDays; set => _retentionDays = value; }

    /// <summary>The audit log's own copy: a reload changes it, not the configuration it came from.</summary>
    public AuditOptions Copy() => (AuditOptions)MemberwiseClone();
}
