namespace QkChat.Server.Configuration;

/// <summary>
/// Every setting of qkchatd with its default. The defaults are what `make run` and a fresh package use; each one is
/// documented (with its risk) in <see cref="OptionRegistry"/>, which also generates docs/configuration.md. Settings
/// of a layer that has its own options class are held in an instance of that class (<see cref="Transport"/>,
/// <see cref="Tls"/>, <see cref="Chat"/>, <see cref="Messaging"/>, <see cref="Accounts"/>, <see cref="LoginLimits"/>,
/// <see cref="Audit"/>, <see cref="Admin"/>, <see cref="Alerts"/>), whose initializers are their only defaults.
/// </summary>
public sealed class ServerOptions
{
    // Settings bound to a layer's options class live in that object: its property initializer is the one default,
    // and OptionRegistry reads and writes it there. ChatServer hands a copy of each to its layer, so a new bound
    // setting needs no line here and none in the hand-over. The engine's listen address comes from Host below.

    /// <summary>The transport's settings (server.port, backlog, reactors, connection limits, send queue).</summary>
    public QkChat.Transport.TransportOptions Transport { get; } = new();

    /// <summary>The TLS listener's settings (tls.*), handed to the engine only when <see cref="TlsEnabled"/>.</summary>
    public QkChat.Transport.TlsListenerOptions Tls { get; } = new();

    /// <summary>The dispatcher's session rules (frame size, timeouts, rate limit, metrics).</summary>
    public QkChat.Core.Dispatch.ChatOptions Chat { get; } = new();

    /// <summary>The message writer's settings (message.batch_size, batch_delay_ms, queue_capacity, server.node_id).</summary>
    public QkChat.Core.Messaging.MessagingOptions Messaging { get; } = new();

    /// <summary>The accounts' settings (account.token_lifetime_days).</summary>
    public QkChat.Core.Accounts.AccountOptions Accounts { get; } = new();

    /// <summary>The failed-login budgets (account.login_failures_per_account, _per_ip).</summary>
    public QkChat.Server.Accounts.LoginLimits LoginLimits { get; } = new();

    /// <summary>The audit log's settings (audit.*).</summary>
    public QkChat.Core.Audit.AuditOptions Audit { get; } = new();

    /// <summary>The admin listener's settings (admin.*).</summary>
    public QkChat.Server.Admin.AdminOptions Admin { get; } = new();

    /// <summary>The alert limits (alert.*).</summary>
    public QkChat.Server.Admin.AlertThresholds Alerts { get; } = new();

    // Listener and connections.
    public string Host { get; set; } = "127.0.0.1";
    public bool TlsEnabled { get; set; }
    public int ShutdownTimeoutSeconds { get; set; } = 10;

    // Shorthands for the bound settings above, for the code and tests that read them by these names; they hold no
    // value or default of their own.
    public int Port { get => Transport.Port; set => Transport.Port = value; }
    public bool PlainTcp { get => Transport.PlainListener; set => Transport.PlainListener = value; }
    public int Backlog { get => Transport.Backlog; set => Transport.Backlog = value; }
    public int Reactors { get => Transport.Reactors; set => Transport.Reactors = value; }
    public bool PinReactors { get => Transport.PinReactors; set => Transport.PinReactors = value; }
    public int MaxClients { get => Transport.MaxClients; set => Transport.MaxClients = value; }
    public int MaxClientsPerIp { get => Transport.MaxClientsPerIp; set => Transport.MaxClientsPerIp = value; }
    public int Ipv6LimitPrefix { get => Transport.Ipv6LimitPrefixLength; set => Transport.Ipv6LimitPrefixLength = value; }
    public int SendQueueLowBytes { get => Transport.SendQueueLowBytes; set => Transport.SendQueueLowBytes = value; }
    public int SendQueueHighBytes { get => Transport.SendQueueHighBytes; set => Transport.SendQueueHighBytes = value; }
    public int SendQueueHardCapBytes { get => Transport.SendQueueHardCapBytes; set => Transport.SendQueueHardCapBytes = value; }
    public int SlowConsumerTimeoutSeconds { get => Seconds(Transport.SlowConsumerTimeout); set => Transport.SlowConsumerTimeout = TimeSpan.FromSeconds(value); }
    public int TlsPort { get => Tls.Port; set => Tls.Port = value; }
    public string TlsCertFile { get => Tls.CertificatePemFile; set => Tls.CertificatePemFile = value; }
    public string TlsKeyFile { get => Tls.KeyPemFile; set => Tls.KeyPemFile = value; }
    public int TlsHandshakeTimeoutSeconds { get => Seconds(Tls.HandshakeTimeout); set => Tls.HandshakeTimeout = TimeSpan.FromSeconds(value); }
    public int MaxFrameBytes { get => Chat.MaxFrameBytes; set => Chat.MaxFrameBytes = value; }
    public int LoginTimeoutSeconds { get => Seconds(Chat.LoginTimeout); set => Chat.LoginTimeout = TimeSpan.FromSeconds(value); }
    public int IdleTimeoutSeconds { get => Seconds(Chat.IdleTimeout); set => Chat.IdleTimeout = TimeSpan.FromSeconds(value); }
    public int RequestsPerSecond { get => Chat.RequestsPerSecond; set => Chat.RequestsPerSecond = value; }
    public int RequestBurst { get => Chat.RequestBurst; set => Chat.RequestBurst = value; }
    public bool MetricsEnabled { get => Chat.MetricsEnabled; set => Chat.MetricsEnabled = value; }
    public int MessageBatchSize { get => Messaging.BatchSize; set => Messaging.BatchSize = value; }
    public int MessageBatchDelayMs { get => (int)Messaging.BatchDelay.TotalMilliseconds; set => Messaging.BatchDelay = TimeSpan.FromMilliseconds(value); }
    public int MessageQueueCapacity { get => Messaging.QueueCapacity; set => Messaging.QueueCapacity = value; }
    public int NodeId { get => Messaging.NodeId; set => Messaging.NodeId = value; }
    public int TokenLifetimeDays { get => (int)Accounts.TokenLifetime.TotalDays; set => Accounts.TokenLifetime = TimeSpan.FromDays(value); }
    public int LoginFailuresPerAccount { get => LoginLimits.PerAccount; set => LoginLimits.PerAccount = value; }
    public int LoginFailuresPerIp { get => LoginLimits.PerIp; set => LoginLimits.PerIp = value; }
    public bool AuditEnabled { get => Audit.Enabled; set => Audit.Enabled = value; }
    public int AuditRetentionDays { get => Audit.RetentionDays; set => Audit.RetentionDays = value; }
    public int AuditQueueCapacity { get => Audit.QueueCapacity; set => Audit.QueueCapacity = value; }
    public int AuditBatchSize { get => Audit.BatchSize; set => Audit.BatchSize = value; }
    public bool AdminEnabled { get => Admin.Enabled; set => Admin.Enabled = value; }
    public string AdminHost { get => Admin.Host; set => Admin.Host = value; }
    public int AdminPort { get => Admin.Port; set => Admin.Port = value; }
    public string AdminToken { get => Admin.Token; set => Admin.Token = value; }
    public int AlertCpuPercent { get => Alerts.CpuPercent; set => Alerts.CpuPercent = value; }
    public int AlertMemoryPercent { get => Alerts.MemoryPercent; set => Alerts.MemoryPercent = value; }
    public int AlertConnectionsPercent { get => Alerts.ConnectionsPercent; set => Alerts.ConnectionsPercent = value; }
    public int AlertErrorRatePercent { get => Alerts.ErrorRatePercent; set => Alerts.ErrorRatePercent = value; }
    public int AlertResponseTimeMs { get => Alerts.ResponseTimeMs; set => Alerts.ResponseTimeMs = value; }

    /// <summary>Whole seconds of a span the configuration set in seconds (exact for every value it can hold).</summary>
    internal static int Seconds(TimeSpan span) => (int)span.TotalSeconds;

    // MariaDB.
    public string DbHost { get; set; } = "127.0.0.1";
    public int DbPort { get; set; } = 3306;
    public string DbUser { get; set; } = "qkchat";
    public string DbPassword { get; set; } = "";
    public string DbName { get; set; } = "qkchat";
    public int DbPoolSize { get; set; } = 32;
    public bool DbAutoMigrate { get; set; }

    // Redis.
    public string RedisHost { get; set; } = "127.0.0.1";
    public int RedisPort { get; set; } = 6379;
    public string RedisPassword { get; set; } = "";
    public int RedisDatabase { get; set; }

    // Mail.
    public string SmtpHost { get; set; } = "";
    public int SmtpPort { get; set; } = 587;
    public string SmtpUser { get; set; } = "";
    public string SmtpPassword { get; set; } = "";
    public string SmtpFrom { get; set; } = "QkChat <no-reply@qkchat.local>";
    public bool SmtpStartTls { get; set; } = true;
    public string MailDropDir { get; set; } = ".run/mail";
    public bool SmtpImplicitTls { get; set; }
    // The mail queue's defaults and their reasons are MailQueueOptions' constants.
    public int MailQueueCapacity { get; set; } = Mail.MailQueueOptions.DefaultCapacity;
    public int MailMaxAttempts { get; set; } = Mail.MailQueueOptions.DefaultMaxAttempts;
    public int MailRetryDelaySeconds { get; set; } = Mail.MailQueueOptions.DefaultRetryDelaySeconds;
    public int MailTimeoutSeconds { get; set; } = Mail.MailQueueOptions.DefaultAttemptTimeoutSeconds;
    public int MailDrainTimeoutSeconds { get; set; } = Mail.MailQueueOptions.DefaultDrainTimeoutSeconds;

    // Accounts.
    public int AvailabilityChecksPerMinute { get; set; } = QkChat.Core.Accounts.AvailabilityService.DefaultChecksPerMinute;
    public int SearchUsersPerMinute { get; set; } = QkChat.Core.Friends.FriendService.DefaultSearchesPerMinute;
    public int PasswordMemoryKiB { get; set; } = QkChat.Server.Security.Argon2idPasswordHasher.DefaultMemoryKiB;
    public int PasswordIterations { get; set; } = QkChat.Server.Security.Argon2idPasswordHasher.DefaultIterations;
    public int PasswordWorkers { get; set; }
    public int PasswordQueueCapacity { get; set; }


    // Logging and start-up.
    public string LogLevel { get; set; } = "information";
    public string LogDir { get; set; } = "logs";
    public bool LogToFile { get; set; } = true;
    public int LogFileMaxMegabytes { get; set; } = 64;
    public int StartupRetrySeconds { get; set; } = 15;

    /// <summary>Where the options were read from; shown in the start-up line, never used for logic.</summary>
    public string Source { get; set; } = "defaults";
}
