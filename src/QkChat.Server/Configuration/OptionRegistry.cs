namespace QkChat.Server.Configuration;

/// <summary>
/// The one list of settings. Parsing, validation, the secret handling and docs/configuration.md all come from here,
/// so a setting cannot exist without its documentation.
/// </summary>
public static class OptionRegistry
{
    public static readonly string[] LogLevels = ["trace", "debug", "information", "warning", "error", "critical", "none"];

    public static readonly IReadOnlyList<OptionSpec> All =
    [
        // Listener and connections.
        OptionSpec.Text("server.host", "QKCHAT_HOST", o => o.Host, (o, v) => o.Host = v,
            "Address the chat listener binds (0.0.0.0 for every IPv4 address).", "Binding a public address exposes the server; use TLS there.", allowEmpty: false),
        OptionSpec.Int("server.port", "QKCHAT_PORT", 1, 65535, o => o.Port, (o, v) => o.Port = v,
            "Plain TCP chat port.", "Below 1024 needs CAP_NET_BIND_SERVICE."),
        OptionSpec.Int("server.backlog", "QKCHAT_BACKLOG", 1, 65535, o => o.Backlog, (o, v) => o.Backlog = v,
            "Listen backlog (the kernel caps it at net.core.somaxconn).", "Too small drops connection bursts (login storms)."),
        OptionSpec.Int("server.reactors", "QKCHAT_REACTORS", 0, 256, o => o.Reactors, (o, v) => o.Reactors = v,
            "Event-loop threads; 0 means one per core.", "More reactors than cores adds context switches."),
        OptionSpec.Bool("server.pin_reactors", "QKCHAT_PIN_REACTORS", o => o.PinReactors, (o, v) => o.PinReactors = v,
            "Pin reactor i to CPU i (sched_setaffinity).", "Hurts when other busy processes share those CPUs."),
        OptionSpec.Int("server.max_clients", "QKCHAT_MAX_CLIENTS", 1, 10_000_000, o => o.MaxClients, (o, v) => o.MaxClients = v,
            "Open connections in all; more get SERVER_BUSY and are closed.", "Needs an open-file limit above it (warned at start); each idle connection costs ~3 KB."),
        OptionSpec.Int("server.max_clients_per_ip", "QKCHAT_MAX_CLIENTS_PER_IP", 1, 10_000_000, o => o.MaxClientsPerIp, (o, v) => o.MaxClientsPerIp = v,
            "Open connections per source address.", "Users behind one NAT share this budget."),
        OptionSpec.Int("server.max_frame_bytes", "QKCHAT_MAX_FRAME_BYTES", 256, 16 * 1024 * 1024, o => o.MaxFrameBytes, (o, v) => o.MaxFrameBytes = v,
            "Largest frame body accepted (protocol default 65,536).", "Raising it raises the memory one client can pin."),
        OptionSpec.Int("server.login_timeout_s", "QKCHAT_LOGIN_TIMEOUT_S", 1, 3600, o => o.LoginTimeoutSeconds, (o, v) => o.LoginTimeoutSeconds = v,
            "Seconds a connection may stay without logging in.", "Long values let idle unauthenticated sockets pile up."),
        OptionSpec.Int("server.idle_timeout_s", "QKCHAT_IDLE_TIMEOUT_S", 1, 86_400, o => o.IdleTimeoutSeconds, (o, v) => o.IdleTimeoutSeconds = v,
            "Seconds a logged-in connection may send nothing (clients heartbeat every 30 s).", "Below the client heartbeat interval disconnects healthy clients."),
        OptionSpec.Int("server.rate_limit_rps", "QKCHAT_RATE_LIMIT_RPS", 1, 1_000_000, o => o.RequestsPerSecond, (o, v) => o.RequestsPerSecond = v,
            "Sustained requests per second per connection (token bucket); more get RATE_LIMITED.", "High values let one client monopolise a reactor."),
        OptionSpec.Int("server.rate_limit_burst", "QKCHAT_RATE_LIMIT_BURST", 1, 1_000_000, o => o.RequestBurst, (o, v) => o.RequestBurst = v,
            "Requests a connection may send at once before the rate applies.", "As above."),
        OptionSpec.Int("server.send_queue_low_bytes", "QKCHAT_SEND_QUEUE_LOW_BYTES", 1024, 1 << 30, o => o.SendQueueLowBytes, (o, v) => o.SendQueueLowBytes = v,
            "Send-queue size below which droppable pushes flow again.", "Must be below the high mark."),
        OptionSpec.Int("server.send_queue_high_bytes", "QKCHAT_SEND_QUEUE_HIGH_BYTES", 1024, 1 << 30, o => o.SendQueueHighBytes, (o, v) => o.SendQueueHighBytes = v,
            "Send-queue size above which droppable pushes (presence) are dropped and counted.", "Must be below the hard cap."),
        OptionSpec.Int("server.send_queue_hard_cap_bytes", "QKCHAT_SEND_QUEUE_HARD_CAP_BYTES", 4096, 1 << 30, o => o.SendQueueHardCapBytes, (o, v) => o.SendQueueHardCapBytes = v,
            "Send-queue size at which the connection is closed as a slow consumer.", "Memory per stalled reader is bounded by this."),
        OptionSpec.Int("server.slow_consumer_timeout_s", "QKCHAT_SLOW_CONSUMER_TIMEOUT_S", 1, 3600, o => o.SlowConsumerTimeoutSeconds, (o, v) => o.SlowConsumerTimeoutSeconds = v,
            "Seconds a send may stay stalled before the connection is closed as slow.", "Short values cut off clients on bad mobile links."),
        OptionSpec.Int("server.shutdown_timeout_s", "QKCHAT_SHUTDOWN_TIMEOUT_S", 1, 600, o => o.ShutdownTimeoutSeconds, (o, v) => o.ShutdownTimeoutSeconds = v,
            "Deadline for a graceful stop (flush, drain) before connections are cut.", "Keep below systemd's TimeoutStopSec."),

        // TLS.
        OptionSpec.Bool("tls.enabled", "QKCHAT_TLS_ENABLED", o => o.TlsEnabled, (o, v) => o.TlsEnabled = v,
            "Open the TLS listener too.", "Without TLS, passwords cross the network in clear: enable it off loopback."),
        OptionSpec.Int("tls.port", "QKCHAT_TLS_PORT", 1, 65535, o => o.TlsPort, (o, v) => o.TlsPort = v,
            "TLS chat port.", "Below 1024 needs CAP_NET_BIND_SERVICE."),
        OptionSpec.Text("tls.cert_file", "QKCHAT_TLS_CERT_FILE", o => o.TlsCertFile, (o, v) => o.TlsCertFile = v,
            "PEM certificate (chain) for the TLS listener; RSA or ECDSA.", "Required when TLS is enabled."),
        OptionSpec.Text("tls.key_file", "QKCHAT_TLS_KEY_FILE", o => o.TlsKeyFile, (o, v) => o.TlsKeyFile = v,
            "PEM private key for the certificate.", "Keep it readable by the service user only."),
        OptionSpec.Int("tls.handshake_timeout_s", "QKCHAT_TLS_HANDSHAKE_TIMEOUT_S", 1, 120, o => o.TlsHandshakeTimeoutSeconds, (o, v) => o.TlsHandshakeTimeoutSeconds = v,
            "Seconds a TLS handshake may take before the socket is closed.", "Long values let stalled handshakes hold sockets."),

        // MariaDB.
        OptionSpec.Text("db.host", "QKCHAT_DB_HOST", o => o.DbHost, (o, v) => o.DbHost = v,
            "MariaDB/MySQL host.", "", allowEmpty: false),
        OptionSpec.Int("db.port", "QKCHAT_DB_PORT", 1, 65535, o => o.DbPort, (o, v) => o.DbPort = v,
            "MariaDB/MySQL port.", ""),
        OptionSpec.Text("db.user", "QKCHAT_DB_USER", o => o.DbUser, (o, v) => o.DbUser = v,
            "Database user.", "Grant it only the qkchat database.", allowEmpty: false),
        OptionSpec.Text("db.password", "QKCHAT_DB_PASSWORD", o => o.DbPassword, (o, v) => o.DbPassword = v,
            "Database password (or db.password_file / QKCHAT_DB_PASSWORD_FILE).", "Prefer the _FILE form: environment variables leak into process listings.", secret: true),
        OptionSpec.Text("db.name", "QKCHAT_DB_NAME", o => o.DbName, (o, v) => o.DbName = v,
            "Database (schema) name.", "", allowEmpty: false, maxLength: 64),
        OptionSpec.Int("db.pool_size", "QKCHAT_DB_POOL_SIZE", 1, 1000, o => o.DbPoolSize, (o, v) => o.DbPoolSize = v,
            "Maximum pooled database connections.", "Above the server's max_connections makes logins fail under load."),
        OptionSpec.Bool("db.auto_migrate", "QKCHAT_DB_AUTO_MIGRATE", o => o.DbAutoMigrate, (o, v) => o.DbAutoMigrate = v,
            "Apply pending migrations at start instead of refusing to start.", "Several nodes starting at once serialise on a lock; prefer `qkchatd migrate`."),

        // Redis.
        OptionSpec.Text("redis.host", "QKCHAT_REDIS_HOST", o => o.RedisHost, (o, v) => o.RedisHost = v,
            "Redis host.", "", allowEmpty: false),
        OptionSpec.Int("redis.port", "QKCHAT_REDIS_PORT", 1, 65535, o => o.RedisPort, (o, v) => o.RedisPort = v,
            "Redis port.", ""),
        OptionSpec.Text("redis.password", "QKCHAT_REDIS_PASSWORD", o => o.RedisPassword, (o, v) => o.RedisPassword = v,
            "Redis password (or redis.password_file / QKCHAT_REDIS_PASSWORD_FILE).", "As db.password.", secret: true),
        OptionSpec.Int("redis.database", "QKCHAT_REDIS_DATABASE", 0, 15, o => o.RedisDatabase, (o, v) => o.RedisDatabase = v,
            "Redis logical database.", "Nodes of one cluster must share it."),

        // Mail.
        OptionSpec.Text("smtp.host", "QKCHAT_SMTP_HOST", o => o.SmtpHost, (o, v) => o.SmtpHost = v,
            "SMTP relay; empty writes mails as .eml files to mail.drop_dir instead.", "Empty in production means nobody receives codes."),
        OptionSpec.Int("smtp.port", "QKCHAT_SMTP_PORT", 1, 65535, o => o.SmtpPort, (o, v) => o.SmtpPort = v,
            "SMTP port (587 submission with STARTTLS).", ""),
        OptionSpec.Text("smtp.user", "QKCHAT_SMTP_USER", o => o.SmtpUser, (o, v) => o.SmtpUser = v,
            "SMTP user; empty sends without authentication.", ""),
        OptionSpec.Text("smtp.password", "QKCHAT_SMTP_PASSWORD", o => o.SmtpPassword, (o, v) => o.SmtpPassword = v,
            "SMTP password (or smtp.password_file / QKCHAT_SMTP_PASSWORD_FILE).", "As db.password.", secret: true),
        OptionSpec.Text("smtp.from", "QKCHAT_SMTP_FROM", o => o.SmtpFrom, (o, v) => o.SmtpFrom = v,
            "Sender address of verification mails.", "Must be allowed by the relay (SPF/DKIM).", allowEmpty: false),
        OptionSpec.Bool("smtp.starttls", "QKCHAT_SMTP_STARTTLS", o => o.SmtpStartTls, (o, v) => o.SmtpStartTls = v,
            "Require STARTTLS on the SMTP connection.", "Off sends codes in clear to the relay."),
        OptionSpec.Text("mail.drop_dir", "QKCHAT_MAIL_DIR", o => o.MailDropDir, (o, v) => o.MailDropDir = v,
            "Where mails go as .eml files when smtp.host is empty.", "", allowEmpty: false),
        OptionSpec.Bool("smtp.implicit_tls", "QKCHAT_SMTP_IMPLICIT_TLS", o => o.SmtpImplicitTls, (o, v) => o.SmtpImplicitTls = v,
            "Speak TLS from the first byte (SMTPS, usually port 465) instead of STARTTLS; overrides smtp.starttls.", "Against a port that expects STARTTLS every mail fails (handshake error in the log)."),
        OptionSpec.Int("mail.queue_capacity", "QKCHAT_MAIL_QUEUE_CAPACITY", 1, 1_000_000, o => o.MailQueueCapacity, (o, v) => o.MailQueueCapacity = v,
            "Mails waiting, retrying or being sent at once; beyond it send_verification_code answers SERVER_BUSY.", "Larger backlogs drain after their codes expire (about 5 mails/s per relay connection)."),
        OptionSpec.Int("mail.max_attempts", "QKCHAT_MAIL_MAX_ATTEMPTS", 1, 20, o => o.MailMaxAttempts, (o, v) => o.MailMaxAttempts = v,
            "Tries per mail on transient failures (connection refused, timeouts, 4xx replies); 5xx replies are not retried.", "1 loses a code to every relay restart; many retries outlast the code's validity."),
        OptionSpec.Int("mail.retry_delay_s", "QKCHAT_MAIL_RETRY_DELAY_S", 1, 300, o => o.MailRetryDelaySeconds, (o, v) => o.MailRetryDelaySeconds = v,
            "Wait before the first retry; it doubles for each further one (2, 4, 8, 16 s by default), capped at 60 s.", "The waits add up: keep their sum well inside the 5-minute code validity."),
        OptionSpec.Int("mail.timeout_s", "QKCHAT_MAIL_TIMEOUT_S", 1, 600, o => o.MailTimeoutSeconds, (o, v) => o.MailTimeoutSeconds = v,
            "Seconds one attempt (connect, TLS, auth, send) may take before it counts as a transient failure.", "Short values fail on a slow provider; long ones let a stalled relay hold the queue."),
        OptionSpec.Int("mail.drain_timeout_s", "QKCHAT_MAIL_DRAIN_TIMEOUT_S", 0, 600, o => o.MailDrainTimeoutSeconds, (o, v) => o.MailDrainTimeoutSeconds = v,
            "At shutdown, seconds to keep sending queued mails after the connections are closed; the rest are dropped and logged.", "Adds to server.shutdown_timeout_s: keep the sum below systemd's TimeoutStopSec."),

        // Accounts.
        OptionSpec.Int("account.token_lifetime_days", "QKCHAT_TOKEN_LIFETIME_DAYS", 1, 3650, o => o.TokenLifetimeDays, (o, v) => o.TokenLifetimeDays = v,
            "Sliding lifetime of a device token: each resume moves its expiry this far ahead.", "Long lifetimes keep a stolen token useful longer; revoke with a password change."),
        OptionSpec.Int("account.availability_checks_per_min", "QKCHAT_AVAILABILITY_CHECKS_PER_MIN", 1, 1_000_000,
            o => o.AvailabilityChecksPerMinute, (o, v) => o.AvailabilityChecksPerMinute = v,
            "check_username and check_email answers per client address per minute (one budget for both); more get RATE_LIMITED.",
            "High values let one address list taken usernames and e-mails quickly; users behind one NAT share the budget."),
        OptionSpec.Int("password.memory_kib", "QKCHAT_PASSWORD_MEMORY_KIB", QkChat.Server.Security.Argon2idPasswordHasher.MinMemoryKiB, QkChat.Server.Security.Argon2idPasswordHasher.MaxMemoryKiB,
            o => o.PasswordMemoryKiB, (o, v) => o.PasswordMemoryKiB = v,
            "Argon2id memory per hash (OWASP minimum 19,456 KiB with 2 iterations); raising it upgrades hashes at the next login.", "Each worker holds this much while hashing; lower than OWASP weakens stored passwords."),
        OptionSpec.Int("password.iterations", "QKCHAT_PASSWORD_ITERATIONS", QkChat.Server.Security.Argon2idPasswordHasher.MinIterations, QkChat.Server.Security.Argon2idPasswordHasher.MaxIterations,
            o => o.PasswordIterations, (o, v) => o.PasswordIterations = v,
            "Argon2id passes over the memory (docs/passwords.md has the measured cost).", "Cost per login grows linearly; logins per second per core fall accordingly."),
        OptionSpec.Int("password.workers", "QKCHAT_PASSWORD_WORKERS", 0, 256, o => o.PasswordWorkers, (o, v) => o.PasswordWorkers = v,
            "Threads that hash passwords; 0 means one per core.", "More than the cores only adds switching; fewer lowers login throughput."),
        OptionSpec.Int("password.queue_capacity", "QKCHAT_PASSWORD_QUEUE", 0, 1_000_000, o => o.PasswordQueueCapacity, (o, v) => o.PasswordQueueCapacity = v,
            "Logins waiting for a hash worker before SERVER_BUSY; 0 means 64 per worker (about a second of work).", "A deep queue turns SERVER_BUSY into client timeouts during a login storm."),

        // Messaging.
        OptionSpec.Int("message.batch_size", "QKCHAT_MESSAGE_BATCH_SIZE", 1, 2000, o => o.MessageBatchSize, (o, v) => o.MessageBatchSize = v,
            "Most messages stored by one multi-row INSERT and commit (the write-behind batcher).", "Large batches near max_allowed_packet (16 MB) fail; 1 commits every message alone and caps throughput at the disk's fsync rate."),
        OptionSpec.Int("message.batch_delay_ms", "QKCHAT_MESSAGE_BATCH_DELAY_MS", 0, 1000, o => o.MessageBatchDelayMs, (o, v) => o.MessageBatchDelayMs = v,
            "Milliseconds the writer waits for a batch to fill; 0 writes whatever gathered during the previous commit.", "Every millisecond is added to each send's latency."),
        OptionSpec.Int("message.queue_capacity", "QKCHAT_MESSAGE_QUEUE_CAPACITY", 1, 10_000_000, o => o.MessageQueueCapacity, (o, v) => o.MessageQueueCapacity = v,
            "Messages waiting to be stored before send_message answers SERVER_BUSY.", "Each waiting message holds its content in memory (up to 16 KB)."),
        OptionSpec.Int("server.node_id", "QKCHAT_NODE_ID", 0, QkChat.Core.Messaging.MessageIds.MaxNode, o => o.NodeId, (o, v) => o.NodeId = v,
            "This node's number (0-15), part of every message id; unique per node of a cluster.", "Two nodes with one number can mint the same message id."),

        // The admin listener and alerts (issue 8; docs/observability.md).
        OptionSpec.Bool("admin.enabled", "QKCHAT_ADMIN_ENABLED", o => o.AdminEnabled, (o, v) => o.AdminEnabled = v,
            "Serve /metrics, /healthz, /readyz, /status and the dashboard on admin.host:admin.port.", "Off leaves monitoring blind."),
        OptionSpec.Text("admin.host", "QKCHAT_ADMIN_HOST", o => o.AdminHost, (o, v) => o.AdminHost = v,
            "Address of the admin listener; loopback keeps it to this machine.", "A public address exposes metrics and the dashboard: set admin.token.", allowEmpty: false),
        OptionSpec.Int("admin.port", "QKCHAT_ADMIN_PORT", 0, 65535, o => o.AdminPort, (o, v) => o.AdminPort = v,
            "Port of the admin listener (0: any free port, logged at start).", "9100 is also node_exporter's default: change one of them if both run."),
        OptionSpec.Text("admin.token", "QKCHAT_ADMIN_TOKEN", o => o.AdminToken, (o, v) => o.AdminToken = v,
            "Bearer token every admin request must carry (or admin.token_file / QKCHAT_ADMIN_TOKEN_FILE); empty: none.", "Without it anyone who reaches admin.host reads the metrics.", secret: true),
        OptionSpec.Int("alert.cpu_percent", "QKCHAT_ALERT_CPU_PERCENT", 1, 100, o => o.AlertCpuPercent, (o, v) => o.AlertCpuPercent = v,
            "CPU use (of all cores) above which a warning is logged once per episode and shown on the dashboard.", "Low values warn all the time under normal load."),
        OptionSpec.Int("alert.memory_percent", "QKCHAT_ALERT_MEMORY_PERCENT", 1, 100, o => o.AlertMemoryPercent, (o, v) => o.AlertMemoryPercent = v,
            "Resident memory, in percent of what the GC may use (the machine or the cgroup limit), that raises an alert.", "As alert.cpu_percent."),
        OptionSpec.Int("alert.connections_percent", "QKCHAT_ALERT_CONNECTIONS_PERCENT", 1, 100, o => o.AlertConnectionsPercent, (o, v) => o.AlertConnectionsPercent = v,
            "Open connections, in percent of server.max_clients, that raise an alert (the original: 9,000 of 10,000).", "As alert.cpu_percent."),

        // Failed-login limits and the audit log (issue 11; docs/audit.md).
        OptionSpec.Int("account.login_failures_per_account", "QKCHAT_LOGIN_FAILURES_PER_ACCOUNT", 1, 1_000_000, o => o.LoginFailuresPerAccount, (o, v) => o.LoginFailuresPerAccount = v,
            "Wrong passwords per account in 15 minutes before its logins get RATE_LIMITED (from any address).", "Low values let anyone lock a user out for the window; high values allow more guessing."),
        OptionSpec.Int("account.login_failures_per_ip", "QKCHAT_LOGIN_FAILURES_PER_IP", 1, 1_000_000, o => o.LoginFailuresPerIp, (o, v) => o.LoginFailuresPerIp = v,
            "Wrong passwords per client address in 15 minutes before its logins get RATE_LIMITED.", "Users behind one NAT share this budget."),
        OptionSpec.Bool("audit.enabled", "QKCHAT_AUDIT_ENABLED", o => o.AuditEnabled, (o, v) => o.AuditEnabled = v,
            "Record security events (logins, failures, kicks, password changes, codes, limits, abuse closes) in audit_events.", "Off leaves no trail of attacks or account takeovers."),
        OptionSpec.Int("audit.retention_days", "QKCHAT_AUDIT_RETENTION_DAYS", 1, 36_500, o => o.AuditRetentionDays, (o, v) => o.AuditRetentionDays = v,
            "Days security events are kept; an hourly job deletes older ones in small batches.", "Long retention grows the table (~150 bytes per event); short loses evidence."),
        OptionSpec.Int("audit.queue_capacity", "QKCHAT_AUDIT_QUEUE_CAPACITY", 1, 10_000_000, o => o.AuditQueueCapacity, (o, v) => o.AuditQueueCapacity = v,
            "Security events waiting for the writer; beyond it events are dropped, counted and warned about once per episode.", "Each waiting event holds ~200 bytes; too small drops events in a login storm."),
        OptionSpec.Int("audit.batch_size", "QKCHAT_AUDIT_BATCH_SIZE", 1, 2000, o => o.AuditBatchSize, (o, v) => o.AuditBatchSize = v,
            "Most security events stored by one multi-row INSERT.", "1 stores each event alone and caps the rate at the disk's commit rate."),

        // Logging and start-up.
        OptionSpec.Choice("log.level", "QKCHAT_LOG_LEVEL", LogLevels, o => o.LogLevel, (o, v) => o.LogLevel = v,
            "Minimum log level; changed by SIGHUP reload without restart.", "debug/trace log per request and cost throughput."),
        OptionSpec.Text("log.dir", "QKCHAT_LOG_DIR", o => o.LogDir, (o, v) => o.LogDir = v,
            "Directory of the rolling log files (server-*.log).", "Must be writable by the service user.", allowEmpty: false),
        OptionSpec.Bool("log.to_file", "QKCHAT_LOG_TO_FILE", o => o.LogToFile, (o, v) => o.LogToFile = v,
            "Write rolling log files besides the console (journald).", ""),
        OptionSpec.Int("log.file_max_mb", "QKCHAT_LOG_FILE_MAX_MB", 1, 100_000, o => o.LogFileMaxMegabytes, (o, v) => o.LogFileMaxMegabytes = v,
            "Size at which a log file rolls over (files also roll daily).", "Old files are not deleted: rotate them with logrotate or a timer."),
        OptionSpec.Int("startup.retry_s", "QKCHAT_STARTUP_RETRY_S", 0, 600, o => o.StartupRetrySeconds, (o, v) => o.StartupRetrySeconds = v,
            "Seconds to keep retrying MariaDB and Redis at start before giving up.", "0 fails at once when a backend starts slower than qkchatd."),
    ];

    public static OptionSpec? Find(string key)
    {
        foreach (var spec in All)
            if (string.Equals(spec.Key, key, StringComparison.OrdinalIgnoreCase)) return spec;
        return null;
    }
}
