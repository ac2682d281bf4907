using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Server.Accounts;
using QkChat.Server.Logging;
using QkChat.Transport;

namespace QkChat.Server.Configuration;

/// <summary>The running objects that a reload changes in place (each read on its own hot path without a lock).</summary>
public sealed class LiveTargets
{
    public required LogLevelSwitch LogLevel { get; init; }
    public required ChatOptions Chat { get; init; }
    public required TransportOptions Transport { get; init; }
    public required ConnectionLimiter Limiter { get; init; }
    public required AccountOptions Accounts { get; init; }
    public required LoginLimits LoginLimits { get; init; }
    public required AuditOptions Audit { get; init; }
    /// <summary>The message and ack writers (null in unit tests that build no messaging).</summary>
    public QkChat.Core.Messaging.MessagingService? Messaging { get; init; }
    /// <summary>The group writers, which take the message.* batch settings too (null where no groups are built).</summary>
    public QkChat.Core.Groups.GroupWriters? GroupWriters { get; init; }
    public QkChat.Server.Admin.AlertThresholds Alerts { get; init; } = new();
}

/// <summary>One key that differs between the running and the reloaded configuration.</summary>
public sealed record KeyChange(string Key, string Old, string New, bool Applied);

/// <summary>
/// Configuration hot reload (issue 11). A key is reloadable exactly when it has an applier here, so the "reload"
/// column of docs/configuration.md cannot promise what the code does not do. Appliers write plain fields that the
/// owning components read on every use: ints, bools and TimeSpans (one 64-bit word) are written and read whole, so a
/// reactor sees the old or the new value, never a torn one, and needs no lock; values that must move together
/// (the send-queue marks) were validated together before any is written, and a reader that sees one new and one old
/// mark for a moment only makes one push-dropping decision with them.
/// </summary>
public static class LiveReload
{
    private static readonly Dictionary<string, Action<ServerOptions, LiveTargets>> Appliers = new(StringComparer.Ordinal)
    {
        ["log.level"] = (o, t) => t.LogLevel.Level = LogLevelSwitch.Parse(o.Log.Level),
        ["server.max_clients"] = (o, t) => t.Limiter.MaxClients = t.Transport.MaxClients = o.Transport.MaxClients,
        ["server.max_clients_per_ip"] = (o, t) => t.Limiter.MaxPerIp = t.Transport.MaxClientsPerIp = o.Transport.MaxClientsPerIp,
        // Deadlines already set keep theirs: a login or idle deadline is computed from these at its next reset.
        ["server.login_timeout_s"] = (o, t) => t.Chat.LoginTimeout = o.Chat.LoginTimeout,
        ["server.idle_timeout_s"] = (o, t) => t.Chat.IdleTimeout = o.Chat.IdleTimeout,
        // The token bucket reads both at every request and caps its tokens at the new burst at once.
        ["server.rate_limit_rps"] = (o, t) => t.Chat.RequestsPerSecond = o.Chat.RequestsPerSecond,
        ["server.rate_limit_burst"] = (o, t) => t.Chat.RequestBurst = o.Chat.RequestBurst,
        ["server.send_queue_low_bytes"] = (o, t) => t.Transport.SendQueueLowBytes = o.Transport.SendQueueLowBytes,
        ["server.send_queue_high_bytes"] = (o, t) => t.Transport.SendQueueHighBytes = o.Transport.SendQueueHighBytes,
        ["server.send_queue_hard_cap_bytes"] = (o, t) => t.Transport.SendQueueHardCapBytes = o.Transport.SendQueueHardCapBytes,
        ["server.slow_consumer_timeout_s"] = (o, t) => t.Transport.SlowConsumerTimeout = o.Transport.SlowConsumerTimeout,
        // Read from the live ServerOptions when the server stops: updating that object is the whole change.
        ["server.shutdown_timeout_s"] = static (_, _) => { },
        ["mail.drain_timeout_s"] = static (_, _) => { },
        ["account.token_lifetime_days"] = (o, t) => t.Accounts.TokenLifetime = o.Accounts.TokenLifetime,
        ["account.login_failures_per_account"] = (o, t) => t.LoginLimits.PerAccount = o.LoginLimits.PerAccount,
        ["account.login_failures_per_ip"] = (o, t) => t.LoginLimits.PerIp = o.LoginLimits.PerIp,
        ["audit.enabled"] = (o, t) => t.Audit.Enabled = o.Audit.Enabled,
        ["audit.retention_days"] = (o, t) => t.Audit.RetentionDays = o.Audit.RetentionDays,
        ["audit.queue_capacity"] = (o, t) => t.Audit.QueueCapacity = o.Audit.QueueCapacity,
        ["audit.batch_size"] = (o, t) => t.Audit.BatchSize = o.Audit.BatchSize,
        // The writers read these once per batch.
        ["message.batch_size"] = (o, t) =>
        {
            if (t.Messaging is { } m) m.Writer.MaxBatchWeight = o.Messaging.BatchSize;
            if (t.GroupWriters is { } g) g.MaxBatchWeight = o.Messaging.BatchSize;
        },
        ["message.batch_delay_ms"] = (o, t) =>
        {
            if (t.Messaging is { } m) m.Writer.BatchDelay = m.Acks.BatchDelay = o.Messaging.BatchDelay;
            if (t.GroupWriters is { } g) g.BatchDelay = o.Messaging.BatchDelay;
        },
        ["alert.cpu_percent"] = (o, t) => t.Alerts.CpuPercent = o.Alerts.CpuPercent,
        ["alert.memory_percent"] = (o, t) => t.Alerts.MemoryPercent = o.Alerts.MemoryPercent,
        ["alert.connections_percent"] = (o, t) => t.Alerts.ConnectionsPercent = o.Alerts.ConnectionsPercent,
        ["alert.error_rate_percent"] = (o, t) => t.Alerts.ErrorRatePercent = o.Alerts.ErrorRatePercent,
        ["alert.response_time_ms"] = (o, t) => t.Alerts.ResponseTimeMs = o.Alerts.ResponseTimeMs,
        // The dispatcher reads it once per request: requests read after the reload are counted, or not.
        ["metrics.enabled"] = (o, t) => t.Chat.MetricsEnabled = o.Chat.MetricsEnabled,
    };

    public static IEnumerable<string> ReloadableKeys => Appliers.Keys;

    public static bool IsReloadable(string key) => Appliers.ContainsKey(key);

    /// <summary>
    /// Applies every reloadable key whose value changed from <paramref name="running"/> to <paramref name="fresh"/>
    /// (an already validated configuration) and records it in <paramref name="running"/>; the others are returned
    /// as not applied and stay as they were. Call from one thread at a time.
    /// </summary>
    public static IReadOnlyList<KeyChange> Apply(ServerOptions running, ServerOptions fresh, LiveTargets targets)
    {
        var changes = new List<KeyChange>();
        foreach (var spec in OptionRegistry.All)
        {
            string old = spec.Show(running), now = spec.Show(fresh);
            // A secret shows as *** either way: comparing the raw values tells whether it changed.
            if (spec.Secret ? spec.Raw(running) == spec.Raw(fresh) : old == now) continue;
            bool applied = Appliers.TryGetValue(spec.Key, out var apply);
            if (applied)
            {
                apply!(fresh, targets);
                spec.Apply(running, now);
            }
            changes.Add(new KeyChange(spec.Key, old, now, applied));
        }
        return changes;
    }

    /// <summary>The objects of a freshly started server, set to <paramref name="options"/> (for tests of the appliers).</summary>
    public static void ApplyAll(ServerOptions options, LiveTargets targets)
    {
        foreach (var apply in Appliers.Values) apply(options, targets);
    }
}
