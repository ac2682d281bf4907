namespace QkChat.Server.Configuration;

/// <summary>
/// The one list of settings. Parsing, validation, the secret handling and docs/configuration.md all come from here,
/// so a setting cannot exist without its documentation. Every entry is bound to an options class, written
/// `o => o.Transport, l => l.X, (l, v) => l.X = v`: its default is that class's initializer, read through the one
/// instance ServerOptions holds, and written nowhere else (OptionBindingTests checks every key).
/// </summary>
public static class OptionRegistry
{
    public static readonly string[] LogLevels = ["trace", "debug", "information", "warning", "error", "critical", "none"];

    public static readonly IReadOnlyList<OptionSpec> All =
    [
        // Listener and connections.
        OptionSpec.Text("server.host", "QKCHAT_HOST", o => o.Listener, l => l.Host, (l, v) => l.Host = v,
            "Address the chat listener binds (0.0.0.0 for every IPv4 address).", "Binding a public address exposes the server; use TLS there.", allowEmpty: false),
        OptionSpec.Int("server.port", "QKCHAT_PORT", 1, 65535, o => o.Transport, l => l.Port, (l, v) => l.Port = v,
            "Plain TCP chat port.", "Below 1024 needs CAP_NET_BIND_SERVICE."),
        OptionSpec.Bool("server.plain_tcp", "QKCHAT_PLAIN_TCP", o => o.Transport, l => l.PlainListener, (l, v) => l.PlainListener = v,
            "Open the plain TCP listener on server.port; false serves TLS only (needs tls.enabled).",
            "On beside TLS, a client may still log in without TLS, its password and token readable on the network (warned at start when server.host is not loopback); off, clients without TLS cannot connect."),
        OptionSpec.Int("server.backlog", "QKCHAT_BACKLOG", 1, 65535, o => o.Transport, l => l.Backlog, (l, v) => l.Backlog = v,
            "Listen backlog (the kernel caps it at net.core.somaxconn).", "Too small drops connection bursts (login storms)."),
        OptionSpec.Int("server.reactors", "QKCHAT_REACTORS", 0, 256, o => o.Transport, l => l.Reactors, (l, v) => l.Reactors = v,
            "Event-loop threads; 0 means one per core.", "More reactors than cores adds context switches."),
        OptionSpec.Bool("server.pin_reactors", "QKCHAT_PIN_REACTORS", o => o.Transport, l => l.PinReactors, (l, v) => l.PinReactors = v,
            "Pin reactor i to CPU i (sched_setaffinity).", "Hurts when other busy processes share those CPUs."),
        OptionSpec.Int("server.max_clients", "QKCHAT_MAX_CLIENTS", 1, 10_000_000, o => o.Transport, l => l.MaxClients, (l, v) => l.MaxClients = v,
            "Open connections in all; more get SERVER_BUSY and are closed.", "Needs an open-file limit above it (warned at start); each idle connection costs ~3 KB."),
        OptionSpec.Int("server.max_clients_per_ip", "QKCHAT_MAX_CLIENTS_PER_IP", 1, 10_000_000, o => o.Transport, l => l.MaxClientsPerIp, (l, v) => l.MaxClientsPerIp = v,
            "Open connections per source address.", "Users behind one NAT share this budget."),
        OptionSpec.Int("server.ipv6_limit_prefix", "QKCHAT_IPV6_LIMIT_PREFIX", QkChat.Transport.ClientAddress.MinIpv6PrefixLength,
            QkChat.Transport.ClientAddress.MaxIpv6PrefixLength, o => o.Transport, l => l.Ipv6LimitPrefixLength, (l, v) => l.Ipv6LimitPrefixLength = v,
            "IPv6 clients count per this network prefix in every per-address limit (connections, codes, failed logins, availability checks); IPv4-mapped addresses count as IPv4.",
            "Longer prefixes (up to 128) let one subscriber's /64 act as billions of clients; shorter ones make neighbours share one budget."),
        OptionSpec.Int("server.max_frame_bytes", "QKCHAT_MAX_FRAME_BYTES", 256, 16 * 1024 * 1024, o => o.Transport, l => l.MaxFrameBytes, (l, v) => l.MaxFrameBytes = v,
            "Largest frame body accepted (protocol default 65,536).", "Raising it raises the memory one client can pin."),
        OptionSpec.Int("server.login_timeout_s", "QKCHAT_LOGIN_TIMEOUT_S", 1, 3600, o => o.Chat, l => ServerOptions.Seconds(l.LoginTimeout), (l, v) => l.LoginTimeout = TimeSpan.FromSeconds(v),
            "Seconds a connection may stay without logging in.", "Long values let idle unauthenticated sockets pile up."),
        OptionSpec.Int("server.idle_timeout_s", "QKCHAT_IDLE_TIMEOUT_S", 1, 86_400, o => o.Chat, l => ServerOptions.Seconds(l.IdleTimeout), (l, v) => l.IdleTimeout = TimeSpan.FromSeconds(v),
            "Seconds a logged-in connection may send nothing (clients heartbeat every 30 s).", "Below the client heartbeat interval disconnects healthy clients."),
        OptionSpec.Int("server.rate_limit_rps", "QKCHAT_RATE_LIMIT_RPS", 1, 1_000_000, o => o.Chat, l => l.RequestsPerSecond, (l, v) => l.RequestsPerSecond = v,
            "Sustained requests per second per connection (token bucket); more get RATE_LIMITED.", "High values let one client monopolise a reactor."),
        OptionSpec.Int("server.rate_limit_burst", "QKCHAT_RATE_LIMIT_BURST", 1, 1_000_000, o => o.Chat, l => l.RequestBurst, (l, v) => l.RequestBurst = v,
            "Requests a connection may send at once before the rate applies.", "As above."),
        OptionSpec.Int("server.send_queue_low_bytes", "QKCHAT_SEND_QUEUE_LOW_BYTES", 1024, 1 << 30, o => o.Transport, l => l.SendQueueLowBytes, (l, v) => l.SendQueueLowBytes = v,
            "Send-queue size below which droppable pushes flow again.", "Must be below the high mark."),
        OptionSpec.Int("server.send_queue_high_bytes", "QKCHAT_SEND_QUEUE_HIGH_BYTES", 1024, 1 << 30, o => o.Transport, l => l.SendQueueHighBytes, (l, v) => l.SendQueueHighBytes = v,
            "Send-queue size above which droppable pushes (presence) are dropped and counted.", "Must be below the hard cap."),
        OptionSpec.Int("server.send_queue_hard_cap_bytes", "QKCHAT_SEND_QUEUE_HARD_CAP_BYTES", 4096, 1 << 30, o => o.Transport, l => l.SendQueueHardCapBytes, (l, v) => l.SendQueueHardCapBytes = v,
            "Send-queue size at which the connection is closed as a slow consumer.", "Memory per stalled reader is bounded by this."),
        OptionSpec.Int("server.slow_consumer_timeout_s", "QKCHAT_SLOW_CONSUMER_TIMEOUT_S", 1, 3600, o => o.Transport, l => ServerOptions.Seconds(l.SlowConsumerTimeout), (l, v) => l.SlowConsumerTimeout = TimeSpan.FromSeconds(v),
            "Seconds a send may stay stalled before the connection is closed as slow.", "Short values cut off clients on bad mobile links."),
        OptionSpec.Int("server.shutdown_timeout_s", "QKCHAT_SHUTDOWN_TIMEOUT_S", 1, 600, o => o.Lifecycle, l => l.ShutdownTimeoutSeconds, (l, v) => l.ShutdownTimeoutSeconds = v,
            "Deadline for a graceful stop (flush, drain) before connections are cut.", "Keep below systemd's TimeoutStopSec."),

        // TLS.
        OptionSpec.Bool("tls.enabled", "QKCHAT_TLS_ENABLED", o => o.Listener, l => l.TlsEnabled, (l, v) => l.TlsEnabled = v,
            "Open the TLS listener on tls.port (beside the plain one unless server.plain_tcp is false).", "Without TLS, passwords cross the network in clear: enable it off loopback."),
        OptionSpec.Int("tls.port", "QKCHAT_TLS_PORT", 1, 65535, o => o.Tls, l => l.Port, (l, v) => l.Port = v,
            "TLS chat port.", "Below 1024 needs CAP_NET_BIND_SERVICE."),
        OptionSpec.Text("tls.cert_file", "QKCHAT_TLS_CERT_FILE", o => o.Tls, l => l.CertificatePemFile, (l, v) => l.CertificatePemFile = v,
            "PEM certificate (chain) for the TLS listener; RSA or ECDSA.", "Required when TLS is enabled."),
        OptionSpec.Text("tls.key_file", "QKCHAT_TLS_KEY_FILE", o => o.Tls, l => l.KeyPemFile, (l, v) => l.KeyPemFile = v,
            "PEM private key for the certificate.", "Keep it readable by the service user only."),
        OptionSpec.Int("tls.handshake_timeout_s", "QKCHAT_TLS_HANDSHAKE_TIMEOUT_S", 1, 120, o => o.Tls, l => ServerOptions.Seconds(l.HandshakeTimeout), (l, v) => l.HandshakeTimeout = TimeSpan.FromSeconds(v),
            "Seconds a TLS handshake may take before the socket is closed.", "Long values let stalled handshakes hold sockets."),

        // MariaDB.
        OptionSpec.Text("db.host", "QKCHAT_DB_HOST", o => o.Database, l => l.Host, (l, v) => l.Host = v,
            "MariaDB/MySQL host.", "", allowEmpty: false),
        OptionSpec.Int("db.port", "QKCHAT_DB_PORT", 1, 65535, o => o.Database, l => l.Port, (l, v) => l.Port = v,
            "MariaDB/MySQL port.", ""),
        OptionSpec.Text("db.user", "QKCHAT_DB_USER", o => o.Database, l => l.User, (l, v) => l.User = v,
            "Database user.", "Grant it only the qkchat database.", allowEmpty: false),
        OptionSpec.Text("db.password", "QKCHAT_DB_PASSWORD", o => o.Database, l => l.Password, (l, v) => l.Password = v,
            "Database password (or db.password_file / QKCHAT_DB_PASSWORD_FILE).", "Prefer the _FILE form: environment variables leak into process listings.", secret: true),
        OptionSpec.Text("db.name", "QKCHAT_DB_NAME", o => o.Database, l => l.Name, (l, v) => l.Name = v,
            "Database (schema) name.", "", allowEmpty: false, maxLength: 64),
        OptionSpec.Int("db.pool_size", "QKCHAT_DB_POOL_SIZE", 1, 1000, o => o.Database, l => l.PoolSize, (l, v) => l.PoolSize = v,
            "Maximum pooled database connections.", "Above the server's max_connections makes logins fail under load."),
        OptionSpec.Bool("db.auto_migrate", "QKCHAT_DB_AUTO_MIGRATE", o => o.Database, l => l.AutoMigrate, (l, v) => l.AutoMigrate = v,
            "Apply pending migrations at start instead of refusing to start.", "Several nodes starting at once serialise on a lock; prefer `qkchatd migrate`."),

        // Redis.
        OptionSpec.Text("redis.host", "QKCHAT_REDIS_HOST", o => o.Redis, l => l.Host, (l, v) => l.Host = v,
            "Redis host.", "", allowEmpty: false),
        OptionSpec.Int("redis.port", "QKCHAT_REDIS_PORT", 1, 65535, o => o.Redis, l => l.Port, (l, v) => l.Port = v,
            "Redis port.", ""),
        OptionSpec.Text("redis.password", "QKCHAT_REDIS_PASSWORD", o => o.Redis, l => l.Password, (l, v) => l.Password = v,
            "Redis password (or redis.password_file / QKCHAT_REDIS_PASSWORD_FILE).", "As db.password.", secret: true),
        OptionSpec.Int("redis.database", "QKCHAT_REDIS_DATABASE", 0, 15, o => o.Redis, l => l.Database, (l, v) => l.Database = v,
            "Redis logical database.", "Nodes of one cluster must share it."),

        // Mail.
        OptionSpec.Text("smtp.host", "QKCHAT_SMTP_HOST", o => o.MailTransport, l => l.Host, (l, v) => l.Host = v,
            "SMTP relay; empty writes mails as .eml files to mail.drop_dir instead.", "Empty in production means nobody receives codes."),
        OptionSpec.Int("smtp.port", "QKCHAT_SMTP_PORT", 1, 65535, o => o.MailTransport, l => l.Port, (l, v) => l.Port = v,
            "SMTP port (587 submission with STARTTLS).", ""),
        OptionSpec.Text("smtp.user", "QKCHAT_SMTP_USER", o => o.MailTransport, l => l.User, (l, v) => l.User = v,
            "SMTP user; empty sends without authentication.", ""),
        OptionSpec.Text("smtp.password", "QKCHAT_SMTP_PASSWORD", o => o.MailTransport, l => l.Password, (l, v) => l.Password = v,
            "SMTP password (or smtp.password_file / QKCHAT_SMTP_PASSWORD_FILE).", "As db.password.", secret: true),
        OptionSpec.Text("smtp.from", "QKCHAT_SMTP_FROM", o => o.MailTransport, l => l.From, (l, v) => l.From = v,
            "Sender address of verification mails.", "Must be allowed by the relay (SPF/DKIM).", allowEmpty: false),
        OptionSpec.Bool("smtp.starttls", "QKCHAT_SMTP_STARTTLS", o => o.MailTransport, l => l.StartTls, (l, v) => l.StartTls = v,
            "Require STARTTLS on the SMTP connection.", "Off sends codes in clear to the relay."),
        OptionSpec.Text("mail.drop_dir", "QKCHAT_MAIL_DIR", o => o.MailTransport, l => l.DropDir, (l, v) => l.DropDir = v,
            "Where mails go as .eml files when smtp.host is empty.", "", allowEmpty: false),
        OptionSpec.Bool("smtp.implicit_tls", "QKCHAT_SMTP_IMPLICIT_TLS", o => o.MailTransport, l => l.ImplicitTls, (l, v) => l.ImplicitTls = v,
            "Speak TLS from the first byte (SMTPS, usually port 465) instead of STARTTLS; overrides smtp.starttls.", "Against a port that expects STARTTLS every mail fails (handshake error in the log)."),
        OptionSpec.Int("mail.queue_capacity", "QKCHAT_MAIL_QUEUE_CAPACITY", 1, 1_000_000, o => o.MailQueue, l => l.Capacity, (l, v) => l.Capacity = v,
            "Mails waiting, retrying or being sent at once; beyond it send_verification_code answers SERVER_BUSY.", "Larger backlogs drain after their codes expire (about 5 mails/s per relay connection)."),
        OptionSpec.Int("mail.max_attempts", "QKCHAT_MAIL_MAX_ATTEMPTS", 1, 20, o => o.MailQueue, l => l.MaxAttempts, (l, v) => l.MaxAttempts = v,
            "Tries per mail on transient failures (connection refused, timeouts, 4xx replies); 5xx replies are not retried.", "1 loses a code to every relay restart; many retries outlast the code's validity."),
        OptionSpec.Int("mail.retry_delay_s", "QKCHAT_MAIL_RETRY_DELAY_S", 1, 300, o => o.MailQueue, l => ServerOptions.Seconds(l.RetryDelay), (l, v) => l.RetryDelay = TimeSpan.FromSeconds(v),
            "Wait before the first retry; it doubles for each further one (2, 4, 8, 16 s by default), capped at 60 s.", "The waits add up: keep their sum well inside the 5-minute code validity."),
        OptionSpec.Int("mail.timeout_s", "QKCHAT_MAIL_TIMEOUT_S", 1, 600, o => o.MailQueue, l => ServerOptions.Seconds(l.AttemptTimeout), (l, v) => l.AttemptTimeout = TimeSpan.FromSeconds(v),
            "Seconds one attempt (connect, TLS, auth, send) may take before it counts as a transient failure.", "Short values fail on a slow provider; long ones let a stalled relay hold the queue."),
        OptionSpec.Int("mail.drain_timeout_s", "QKCHAT_MAIL_DRAIN_TIMEOUT_S", 0, 600, o => o.MailQueue, l => ServerOptions.Seconds(l.DrainTimeout), (l, v) => l.DrainTimeout = TimeSpan.FromSeconds(v),
            "At shutdown, seconds to keep sending queued mails after the connections are closed; the rest are dropped and logged.", "Adds to server.shutdown_timeout_s: keep the sum below systemd's TimeoutStopSec."),

        // Accounts.
        OptionSpec.Int("account.token_lifetime_days", "QKCHAT_TOKEN_LIFETIME_DAYS", 1, 3650, o => o.Accounts, l => (int)l.TokenLifetime.TotalDays, (l, v) => l.TokenLifetime = TimeSpan.FromDays(v),
            "Sliding lifetime of a device token: each resume moves its expiry this far ahead.", "Long lifetimes keep a stolen token useful longer; revoke with a password change."),
        OptionSpec.Int("account.availability_checks_per_min", "QKCHAT_AVAILABILITY_CHECKS_PER_MIN", 1, 1_000_000,
            o => o.LookupLimits, l => l.AvailabilityChecksPerMinute, (l, v) => l.AvailabilityChecksPerMinute = v,
            "check_username and check_email answers per client address per minute (one budget for both); more get RATE_LIMITED.",
            "High values let one address list taken usernames and e-mails quickly; users behind one NAT share the budget."),
        OptionSpec.Int("account.search_users_per_min", "QKCHAT_SEARCH_USERS_PER_MIN", 1, 1_000_000,
            o => o.LookupLimits, l => l.SearchUsersPerMinute, (l, v) => l.SearchUsersPerMinute = v,
            "search_users answers per user per minute (all of the user's devices together); more get RATE_LIMITED.",
            "An exact e-mail query tells whether an address has an account: high values let one account test address lists quickly."),
        OptionSpec.Int("password.memory_kib", "QKCHAT_PASSWORD_MEMORY_KIB", QkChat.Server.Security.Argon2idPasswordHasher.MinMemoryKiB, QkChat.Server.Security.Argon2idPasswordHasher.MaxMemoryKiB,
            o => o.Passwords, l => l.MemoryKiB, (l, v) => l.MemoryKiB = v,
            "Argon2id memory per hash (OWASP minimum 19,456 KiB with 2 iterations); raising it upgrades hashes at the next login.", "Each worker holds this much while hashing; lower than OWASP weakens stored passwords."),
        OptionSpec.Int("password.iterations", "QKCHAT_PASSWORD_ITERATIONS", QkChat.Server.Security.Argon2idPasswordHasher.MinIterations, QkChat.Server.Security.Argon2idPasswordHasher.MaxIterations,
            o => o.Passwords, l => l.Iterations, (l, v) => l.Iterations = v,
            "Argon2id passes over the memory (docs/passwords.md has the measured cost).", "Cost per login grows linearly; logins per second per core fall accordingly."),
        OptionSpec.Int("password.workers", "QKCHAT_PASSWORD_WORKERS", 0, 256, o => o.Passwords, l => l.Workers, (l, v) => l.Workers = v,
            "Threads that hash passwords; 0 means one per core.", "More than the cores only adds switching; fewer lowers login throughput."),
        OptionSpec.Int("password.queue_capacity", "QKCHAT_PASSWORD_QUEUE", 0, 1_000_000, o => o.Passwords, l => l.QueueCapacity, (l, v) => l.QueueCapacity = v,
            "Logins waiting for a hash worker before SERVER_BUSY; 0 means 64 per worker (about a second of work).", "A deep queue turns SERVER_BUSY into client timeouts during a login storm."),

        // Messaging.
        OptionSpec.Int("message.batch_size", "QKCHAT_MESSAGE_BATCH_SIZE", 1, 2000, o => o.Messaging, l => l.BatchSize, (l, v) => l.BatchSize = v,
            "Most messages stored by one multi-row INSERT and commit (the write-behind batcher).", "Large batches near max_allowed_packet (16 MB) fail; 1 commits every message alone and caps throughput at the disk's fsync rate."),
        OptionSpec.Int("message.batch_delay_ms", "QKCHAT_MESSAGE_BATCH_DELAY_MS", 0, 1000, o => o.Messaging, l => (int)l.BatchDelay.TotalMilliseconds, (l, v) => l.BatchDelay = TimeSpan.FromMilliseconds(v),
            "Milliseconds the writer waits for a batch to fill; 0 writes whatever gathered during the previous commit.", "Every millisecond is added to each send's latency."),
        OptionSpec.Int("message.queue_capacity", "QKCHAT_MESSAGE_QUEUE_CAPACITY", 1, 10_000_000, o => o.Messaging, l => l.QueueCapacity, (l, v) => l.QueueCapacity = v,
            "Messages waiting to be stored before send_message answers SERVER_BUSY.", "Each waiting message holds its content in memory (up to 16 KB)."),
        OptionSpec.Int("server.node_id", "QKCHAT_NODE_ID", 0, QkChat.Core.Messaging.MessageIds.MaxNode, o => o.Messaging, l => l.NodeId, (l, v) => l.NodeId = v,
            "This node's number (0-15), part of every message id; unique per node of a cluster.", "Two nodes with one number can mint the same message id."),

        // Group chat (protocol.md §9).
        OptionSpec.Int("group.max_members", "QKCHAT_GROUP_MAX_MEMBERS", 2, 100_000, o => o.Groups, l => l.MaxMembers, (l, v) => l.MaxMembers = v,
            "Most members a group may hold (create_group and add_group_members answer FORBIDDEN past it); lowering it removes nobody.", "Every entry is pushed to every online member: a larger cap multiplies the fan-out work of one send and the size of the cached member lists."),

        // The admin listener and alerts (issue 8; docs/observability.md).
        OptionSpec.Bool("admin.enabled", "QKCHAT_ADMIN_ENABLED", o => o.Admin, l => l.Enabled, (l, v) => l.Enabled = v,
            "Serve /metrics, /healthz, /readyz, /status and the dashboard on admin.host:admin.port.", "Off leaves monitoring blind."),
        OptionSpec.Text("admin.host", "QKCHAT_ADMIN_HOST", o => o.Admin, l => l.Host, (l, v) => l.Host = v,
            "Address of the admin listener (an IP address); loopback keeps it to this machine.", "Any other address exposes metrics and the dashboard: qkchatd refuses to start there without admin.token.", allowEmpty: false),
        OptionSpec.Int("admin.port", "QKCHAT_ADMIN_PORT", 0, 65535, o => o.Admin, l => l.Port, (l, v) => l.Port = v,
            "Port of the admin listener (0: any free port, logged at start).", "9100 is also node_exporter's default: change one of them if both run."),
        OptionSpec.Text("admin.token", "QKCHAT_ADMIN_TOKEN", o => o.Admin, l => l.Token, (l, v) => l.Token = v,
            "Bearer token every admin request must carry in its Authorization header, never in the URL (or admin.token_file / QKCHAT_ADMIN_TOKEN_FILE); empty: none.", "Without it anyone who reaches admin.host reads the metrics; required when admin.host is not loopback.", secret: true),
        OptionSpec.Int("alert.cpu_percent", "QKCHAT_ALERT_CPU_PERCENT", 1, 100, o => o.Alerts, l => l.CpuPercent, (l, v) => l.CpuPercent = v,
            "CPU use (of all cores) above which a warning is logged once per episode and shown on the dashboard.", "Low values warn all the time under normal load."),
        OptionSpec.Int("alert.memory_percent", "QKCHAT_ALERT_MEMORY_PERCENT", 1, 100, o => o.Alerts, l => l.MemoryPercent, (l, v) => l.MemoryPercent = v,
            "Resident memory, in percent of what the GC may use (the machine or the cgroup limit), that raises an alert.", "As alert.cpu_percent."),
        OptionSpec.Int("alert.connections_percent", "QKCHAT_ALERT_CONNECTIONS_PERCENT", 1, 100, o => o.Alerts, l => l.ConnectionsPercent, (l, v) => l.ConnectionsPercent = v,
            "Open connections, in percent of server.max_clients, that raise an alert (the original: 9,000 of 10,000).", "As alert.cpu_percent."),
        OptionSpec.Int("alert.error_rate_percent", "QKCHAT_ALERT_ERROR_RATE_PERCENT", 1, 100, o => o.Alerts, l => l.ErrorRatePercent, (l, v) => l.ErrorRatePercent = v,
            "Responses failed by the server (INTERNAL, UNAVAILABLE, SERVER_BUSY), in percent of all responses of a second, that raise an alert; seconds with under 50 requests are not judged.",
            "Low values alert on a single failed batch; needs metrics.enabled."),
        OptionSpec.Int("alert.response_time_ms", "QKCHAT_ALERT_RESPONSE_TIME_MS", 1, 600_000, o => o.Alerts, l => l.ResponseTimeMs, (l, v) => l.ResponseTimeMs = v,
            "p99 response time of a second's requests (all actions, estimated from the latency histogram) above which an alert is raised; seconds with under 50 requests are not judged.",
            "Logins wait for a password hash (tens of ms each, queued in a storm): low values alert during every login storm; needs metrics.enabled."),
        OptionSpec.Bool("metrics.enabled", "QKCHAT_METRICS_ENABLED", o => o.Chat, l => l.MetricsEnabled, (l, v) => l.MetricsEnabled = v,
            "Count every request by action and result code and time it (qkchat_requests_total, qkchat_request_duration_seconds, the dashboard's latency and error rate).",
            "Off blinds the request metrics, the latency chart and the error-rate and response-time alerts; it saves a clock read and three increments per request."),

        // Failed-login limits and the audit log (issue 11; docs/audit.md).
        OptionSpec.Int("account.login_failures_per_account", "QKCHAT_LOGIN_FAILURES_PER_ACCOUNT", 1, 1_000_000, o => o.LoginLimits, l => l.PerAccount, (l, v) => l.PerAccount = v,
            "Wrong passwords per account in 15 minutes before its logins get RATE_LIMITED (from any address).", "Low values let anyone lock a user out for the window; high values allow more guessing."),
        OptionSpec.Int("account.login_failures_per_ip", "QKCHAT_LOGIN_FAILURES_PER_IP", 1, 1_000_000, o => o.LoginLimits, l => l.PerIp, (l, v) => l.PerIp = v,
            "Wrong passwords per client address in 15 minutes before its logins get RATE_LIMITED.", "Users behind one NAT share this budget."),
        OptionSpec.Bool("audit.enabled", "QKCHAT_AUDIT_ENABLED", o => o.Audit, l => l.Enabled, (l, v) => l.Enabled = v,
            "Record security events (logins, failures, kicks, password changes, codes, limits, abuse closes) in audit_events.", "Off leaves no trail of attacks or account takeovers."),
        OptionSpec.Int("audit.retention_days", "QKCHAT_AUDIT_RETENTION_DAYS", 1, 36_500, o => o.Audit, l => l.RetentionDays, (l, v) => l.RetentionDays = v,
            "Days security events are kept; an hourly job deletes older ones in small batches.", "Long retention grows the table (~150 bytes per event); short loses evidence."),
        OptionSpec.Int("audit.queue_capacity", "QKCHAT_AUDIT_QUEUE_CAPACITY", 1, 10_000_000, o => o.Audit, l => l.QueueCapacity, (l, v) => l.QueueCapacity = v,
            "Security events waiting for the writer; beyond it events are dropped, counted and warned about once per episode.", "Each waiting event holds ~200 bytes; too small drops events in a login storm."),
        OptionSpec.Int("audit.batch_size", "QKCHAT_AUDIT_BATCH_SIZE", 1, 2000, o => o.Audit, l => l.BatchSize, (l, v) => l.BatchSize = v,
            "Most security events stored by one multi-row INSERT.", "1 stores each event alone and caps the rate at the disk's commit rate."),

        // Logging and start-up.
        OptionSpec.Choice("log.level", "QKCHAT_LOG_LEVEL", LogLevels, o => o.Log, l => l.Level, (l, v) => l.Level = v,
            "Minimum log level; changed by SIGHUP reload without restart.", "debug/trace log per request and cost throughput."),
        OptionSpec.Text("log.dir", "QKCHAT_LOG_DIR", o => o.Log, l => l.Dir, (l, v) => l.Dir = v,
            "Directory of the rolling log files (server-*.log).", "Must be writable by the service user.", allowEmpty: false),
        OptionSpec.Bool("log.to_file", "QKCHAT_LOG_TO_FILE", o => o.Log, l => l.ToFile, (l, v) => l.ToFile = v,
            "Write rolling log files besides the console (journald).", ""),
        OptionSpec.Int("log.file_max_mb", "QKCHAT_LOG_FILE_MAX_MB", 1, 100_000, o => o.Log, l => l.FileMaxMegabytes, (l, v) => l.FileMaxMegabytes = v,
            "Size at which a log file rolls over (files also roll daily).", "Old files are not deleted: rotate them with logrotate or a timer."),
        OptionSpec.Int("startup.retry_s", "QKCHAT_STARTUP_RETRY_S", 0, 600, o => o.Lifecycle, l => l.StartupRetrySeconds, (l, v) => l.StartupRetrySeconds = v,
            "Seconds to keep retrying MariaDB and Redis at start before giving up.", "0 fails at once when a backend starts slower than qkchatd."),
    ];

    public static OptionSpec? Find(string key)
    {
        foreach (var spec in All)
            if (string.Equals(spec.Key, key, StringComparison.OrdinalIgnoreCase)) return spec;
        return null;
    }
}
