namespace QkChat.Server.Configuration;

/// <summary>
/// Every setting of qkchatd, as one instance of each options class the settings are bound to. The defaults are what
/// `make run` and a fresh package use; each is its class's property initializer and is written nowhere else, and
/// each setting is documented (with its risk) in <see cref="OptionRegistry"/>, which also generates
/// docs/configuration.md. ChatServer hands a copy of each layer's object to its layer, so a new bound setting needs
/// no line here and none in the hand-over.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>The transport's settings (server.port, backlog, reactors, connection limits, send queue).</summary>
    public QkChat.Transport.TransportOptions Transport { get; } = new();

    /// <summary>The TLS listener's settings (tls.*), handed to the engine only when <see cref="ListenerOptions.TlsEnabled"/>.</summary>
    public QkChat.Transport.TlsListenerOptions Tls { get; } = new();

    /// <summary>The chat listeners' address and whether TLS opens (server.host, tls.enabled).</summary>
    public ListenerOptions Listener { get; } = new();

    /// <summary>The dispatcher's session rules (frame size, timeouts, rate limit, metrics).</summary>
    public QkChat.Core.Dispatch.ChatOptions Chat { get; } = new();

    /// <summary>The message writer's settings (message.batch_size, batch_delay_ms, queue_capacity, server.node_id).</summary>
    public QkChat.Core.Messaging.MessagingOptions Messaging { get; } = new();

    /// <summary>This node's identity (server.node_id, server.node_lease_ttl_s; docs/cluster.md).</summary>
    public QkChat.Server.Cluster.NodeOptions Node { get; } = new();

    /// <summary>Group chat (group.max_members).</summary>
    public QkChat.Core.Groups.GroupOptions Groups { get; } = new();

    /// <summary>File transfer (files.*; docs/files.md).</summary>
    public QkChat.Core.Files.FileTransferOptions Files { get; } = new();

    /// <summary>The accounts' settings (account.token_lifetime_days).</summary>
    public QkChat.Core.Accounts.AccountOptions Accounts { get; } = new();

    /// <summary>The failed-login budgets (account.login_failures_per_account, _per_ip).</summary>
    public QkChat.Server.Accounts.LoginLimits LoginLimits { get; } = new();

    /// <summary>The budgets of the lookups that tell whether an account exists (account.availability_checks_per_min, search_users_per_min).</summary>
    public QkChat.Server.Accounts.LookupLimits LookupLimits { get; } = new();

    /// <summary>Password hashing (password.*).</summary>
    public QkChat.Server.Security.PasswordOptions Passwords { get; } = new();

    /// <summary>The audit log's settings (audit.*).</summary>
    public QkChat.Core.Audit.AuditOptions Audit { get; } = new();

    /// <summary>The admin listener's settings (admin.*).</summary>
    public QkChat.Server.Admin.AdminOptions Admin { get; } = new();

    /// <summary>The public HTTP listener: web client and WebSocket gateway (http.*).</summary>
    public QkChat.Server.Web.HttpOptions Http { get; } = new();

    /// <summary>The alert limits (alert.*).</summary>
    public QkChat.Server.Admin.AlertThresholds Alerts { get; } = new();

    /// <summary>MariaDB (db.*).</summary>
    public QkChat.Server.Storage.DatabaseOptions Database { get; } = new();

    /// <summary>Redis (redis.*).</summary>
    public QkChat.Server.Storage.RedisOptions Redis { get; } = new();

    /// <summary>How mail leaves: the relay or the drop directory (smtp.*, mail.drop_dir).</summary>
    public QkChat.Server.Mail.MailTransportOptions MailTransport { get; } = new();

    /// <summary>The mail queue (mail.queue_capacity, max_attempts, retry_delay_s, timeout_s, drain_timeout_s).</summary>
    public QkChat.Server.Mail.MailQueueOptions MailQueue { get; } = new();

    /// <summary>Logging (log.*).</summary>
    public QkChat.Server.Logging.LogOptions Log { get; } = new();

    /// <summary>The waits at start and stop (startup.retry_s, server.shutdown_timeout_s).</summary>
    public LifecycleOptions Lifecycle { get; } = new();

    /// <summary>Whole seconds of a span the configuration set in seconds (exact for every value it can hold).</summary>
    internal static int Seconds(TimeSpan span) => (int)span.TotalSeconds;

    /// <summary>Where the options were read from; shown in the start-up line, never used for logic.</summary>
    public string Source { get; set; } = "defaults";
}
