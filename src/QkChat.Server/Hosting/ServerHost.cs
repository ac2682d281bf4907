using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Core;
using QkChat.Server.Admin;
using QkChat.Server.Web;
using QkChat.Server.Audit;
using QkChat.Server.Cluster;
using QkChat.Server.Configuration;
using QkChat.Server.Logging;
using QkChat.Server.Mail;
using QkChat.Server.Storage;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Hosting;

/// <summary>
/// The life of one qkchatd process: logging, backends, schema check, listeners, then wait for a signal and stop in
/// the order of architecture.md §4. Start-up failures end as one clear line and a non-zero exit code.
/// </summary>
public static partial class ServerHost
{
    public static int Run(CommandLine line, ServerOptions options)
    {
        var levelSwitch = new LogLevelSwitch(LogLevelSwitch.Parse(options.Log.Level));
        using var loggerFactory = LogSetup.Create(options.Log, levelSwitch);
        var logger = loggerFactory.CreateLogger("Server");
        try
        {
            return line.Command switch
            {
                "migrate" => MigrateAsync(options, loggerFactory).GetAwaiter().GetResult(),
                "provision-users" => Provisioning.RunAsync(line, options, loggerFactory).GetAwaiter().GetResult(),
                "audit" => RunAudit(line, options, loggerFactory, levelSwitch),
                _ => ServeAsync(line, options, loggerFactory, levelSwitch).GetAwaiter().GetResult(),
            };
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine("qkchatd: " + e.Message);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is BackendUnavailableException or SchemaMismatchException or MySqlException or RedisException or StartupException or NodeIdUnavailableException)
        {
            LogFatal(logger, e.Message);
            Console.Error.WriteLine("qkchatd: " + e.Message);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            // Typically the port is taken or a file is not readable: say which, without a stack trace.
            LogFatal(logger, e.Message);
            Console.Error.WriteLine("qkchatd: cannot start: " + e.Message);
            return ExitCodes.Failure;
        }
    }

    /// <summary>The audit command prints to stdout, where the console log also goes: only warnings may join it.</summary>
    private static int RunAudit(CommandLine line, ServerOptions options, ILoggerFactory loggerFactory, LogLevelSwitch levelSwitch)
    {
        if (levelSwitch.Level < LogLevel.Warning) levelSwitch.Level = LogLevel.Warning;
        return AuditCommand.RunAsync(line, options, loggerFactory).GetAwaiter().GetResult();
    }

    private static async Task<int> MigrateAsync(ServerOptions options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("Migrator");
        await using var dataSource = Backends.CreateDataSource(options.Database);
        await Backends.WaitForDatabaseAsync(dataSource, options.Database, options.Lifecycle.StartupRetrySeconds, logger, CancellationToken.None);
        await new Migrator(dataSource, Migration.Embedded(), logger).MigrateAsync(CancellationToken.None);
        return ExitCodes.Ok;
    }

    private static async Task<int> ServeAsync(CommandLine line, ServerOptions options, ILoggerFactory loggerFactory, LogLevelSwitch levelSwitch)
    {
        var logger = loggerFactory.CreateLogger("Server");
        LogStarting(logger, BuildInfo.Version, options.Source, ConfigDocs.Summary(options));
        using var stopping = new CancellationTokenSource();
        LiveTargets? live = null;
        using var signals = new SignalHandlers(stopping, () => Reload(line, options, levelSwitch, Volatile.Read(ref live), logger));

        WarnOnFileLimit(options, logger);
        WarnOnUnknownVariables(logger);
        WarnOnPlainBesideTls(options, logger);
        // Before the first pool exists: MySqlConnector reports its pools' connections as changes, and only the changes
        // seen from here on add up to the right counts (docs/observability.md).
        using var dbPools = options.Admin.Enabled ? new MeterCollector() : null;
        // A stop signal while waiting for MariaDB, Redis or the node lease ends the start there: nothing serves yet.
        try
        {
            await using var dataSource = Backends.CreateDataSource(options.Database);
            await Backends.WaitForDatabaseAsync(dataSource, options.Database, options.Lifecycle.StartupRetrySeconds, logger, stopping.Token);
            await EnsureSchemaAsync(dataSource, options, loggerFactory, stopping.Token);
            await using var redis = await Backends.ConnectRedisAsync(options.Redis, options.Lifecycle.StartupRetrySeconds, logger, stopping.Token);
            // The node's number before anything mints an id: a number another live node holds stops the start here.
            var lease = await NodeLease.AcquireAsync(redis, options.Node, $"{Environment.MachineName}:{options.Transport.Port}",
                loggerFactory.CreateLogger("Cluster"), stopping.Token);
            options.Messaging.NodeId = lease.NodeId;
            await using var mail = MailQueue.Create(options.MailQueue, options.MailTransport, loggerFactory);
            // A lost lease stops the server like SIGTERM, and the exit code says it failed (docs/cluster.md).
            using var stopOrLost = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, lease.Lost);

            await using (var server = new ChatServer(options, loggerFactory, dataSource, redis, mail, levelSwitch, lease.Permit, lease))
            {
                Volatile.Write(ref live, server.Live);
                // Not cancelled by a stop signal: a start cut halfway left a server that hung in its disposal (SIGTERM ~0.6 s
                // into a start, 2026-12-07). It finishes starting, then the wait below returns at once and it stops normally.
                await server.StartAsync(CancellationToken.None);
                // File uploads and downloads (protocol.md §10) are the listener's extra routes.
                var fileRoutes = new QkChat.Server.Files.TusEndpoints(server.Features.Uploads, server.Features.Downloads, loggerFactory.CreateLogger("Files"));
                await using var web = await StartWebAsync(options, server, [fileRoutes], loggerFactory, logger, CancellationToken.None);
                await using var admin = await StartAdminAsync(options, server, dataSource, redis, mail, dbPools, lease, loggerFactory, logger, CancellationToken.None);
                LogReady(logger, Listeners(server.Engine), server.Engine.Reactors.Count);
                SystemdNotify.Ready();
                using var watchdog = SystemdNotify.StartWatchdog();
                try
                {
                    await Task.Delay(Timeout.Infinite, stopOrLost.Token);
                }
                catch (OperationCanceledException)
                {
                }
                SystemdNotify.Stopping();
                LogStopping(logger, options.Lifecycle.ShutdownTimeoutSeconds);
                await server.StopAsync(TimeSpan.FromSeconds(options.Lifecycle.ShutdownTimeoutSeconds));
            }
            // After the write-behind drained (it mints nothing): the number is free for another node at once.
            bool lost = lease.IsLost;
            await lease.DisposeAsync();
            // architecture.md §4: after the connections, drain the mail queue, then close Redis; logs flush last.
            await mail.DrainAsync(options.MailQueue.DrainTimeout);
            await redis.CloseAsync();
            LogStopped(logger);
            return lost ? ExitCodes.Failure : ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogStoppedBeforeReady(logger);
            return ExitCodes.Ok;
        }
    }

    /// <summary>The admin listener (issue 8), after the chat listener so /readyz can say it is bound; null when disabled.</summary>
    private static async Task<AdminHost?> StartAdminAsync(ServerOptions options, ChatServer server, MySqlDataSource db,
        StackExchange.Redis.IConnectionMultiplexer redis, MailQueue mail, MeterCollector? dbPools, NodeLease lease, ILoggerFactory loggerFactory, ILogger logger,
        CancellationToken ct)
    {
        if (!options.Admin.Enabled) return null;
        var warnings = new RecentWarnings();
        loggerFactory.AddProvider(warnings);
        var admin = options.Admin.Copy();
        var summary = OptionRegistry.All.Where(o => !o.Secret).Select(o => (o.Key, o.Show(options))).ToList();
        try
        {
            var host = await AdminHost.StartAsync(admin, server.Live.Alerts, server.Engine, server.Features, server.Passwords, db, redis, warnings,
                options.Transport.MaxClients, summary, BuildInfo.Version, loggerFactory, () => mail.Pending, server.Requests, dbPools, ct, lease);
            LogAdmin(logger, host.EndPoint!.ToString(), admin.Token.Length > 0);
            return host;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException) // Kestrel: AddressInUseException and friends
        {
            throw new StartupException($"the admin listener cannot bind {options.Admin.Host}:{options.Admin.Port} " +
                $"(admin.port; admin.enabled=false turns it off): {e.Message}");
        }
    }

    /// <summary>
    /// The public HTTP listener (issue 20): web client and WebSocket gateway, after the chat engine (its connections
    /// are the engine's); null when http.enabled is off. <paramref name="endpoints"/> is where features that serve HTTP
    /// of their own (file uploads) plug in their routes. Disposed before the server stops the engine's connections: the
    /// upgraded requests end as the engine closes them.
    /// </summary>
    private static async Task<WebServer?> StartWebAsync(ServerOptions options, ChatServer server, IReadOnlyList<IHttpEndpoints> endpoints,
        ILoggerFactory loggerFactory, ILogger logger, CancellationToken ct)
    {
        if (!options.Http.Enabled) return null;
        var http = options.Http.Copy();
        (string, string)? certificate = http.Tls ? (options.Tls.CertificatePemFile, options.Tls.KeyPemFile) : null;
        try
        {
            var web = await WebServer.StartAsync(http, server.Engine, certificate, endpoints, loggerFactory, ct);
            LogWeb(logger, web.IsTls ? "https" : "http", web.EndPoint.ToString());
            return web;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            throw new StartupException($"the HTTP listener cannot start on {options.Http.Host}:{options.Http.Port} " +
                $"(http.port; http.enabled=false turns it off): {e.Message}");
        }
    }

    internal static async Task EnsureSchemaAsync(MySqlDataSource dataSource, ServerOptions options, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var migrator = new Migrator(dataSource, Migration.Embedded(), loggerFactory.CreateLogger("Migrator"));
        var pending = await migrator.PendingAsync(ct);
        if (pending.Count == 0) return;
        if (!options.Database.AutoMigrate)
            throw new SchemaMismatchException(
                $"the database lacks migrations {string.Join(", ", pending)}: run `qkchatd migrate` first (or set db.auto_migrate=true)");
        await migrator.MigrateAsync(ct);
    }

    private static readonly Lock ReloadGate = new();

    /// <summary>
    /// SIGHUP: re-read the file and the QKCHAT_* variables and validate the whole result first (a bad file changes
    /// nothing and says why); then apply every reloadable key that changed, logging old -> new, and report the
    /// others as needing a restart (<paramref name="running"/> keeps their old values). Before the server is up
    /// (<paramref name="live"/> null) only the log level can change.
    /// </summary>
    private static void Reload(CommandLine line, ServerOptions running, LogLevelSwitch levelSwitch, LiveTargets? live, ILogger logger)
    {
        // Two quick SIGHUPs run one after the other: each compares against what the previous one applied.
        lock (ReloadGate)
        {
            SystemdNotify.Reloading();
            try
            {
                var fresh = ConfigLoader.Load(line.ConfigPath, line.Overrides, Environment.GetEnvironmentVariables());
                if (live is null)
                {
                    levelSwitch.Level = LogLevelSwitch.Parse(fresh.Log.Level);
                    running.Log.Level = fresh.Log.Level;
                    LogReloaded(logger, 1, 0);
                    return;
                }
                var changes = LiveReload.Apply(running, fresh, live);
                foreach (var c in changes)
                {
                    if (c.Applied) LogKeyApplied(logger, c.Key, c.Old, c.New);
                    else LogKeyNeedsRestart(logger, c.Key, c.Old, c.New);
                }
                LogReloaded(logger, changes.Count(c => c.Applied), changes.Count(c => !c.Applied));
            }
            catch (ConfigException e)
            {
                LogReloadRejected(logger, e.Message);
            }
            finally
            {
                SystemdNotify.Reloaded();
            }
        }
    }

    private static void WarnOnFileLimit(ServerOptions options, ILogger logger)
    {
        long limit = FileLimit.Current();
        // Each client is one descriptor; listeners, logs, database and Redis sockets need a few dozen more.
        const int Reserve = 64;
        if (limit >= 0 && limit < options.Transport.MaxClients + Reserve)
            LogFileLimitLow(logger, limit, options.Transport.MaxClients);
    }

    [ZLoggerMessage(LogLevel.Information, "qkchatd {version} starting (configuration: {source}): {summary}")]
    private static partial void LogStarting(ILogger logger, string version, string source, string summary);

    [ZLoggerMessage(LogLevel.Information, "admin listener on http://{endPoint}/ (metrics, health, dashboard; token required: {token})")]
    private static partial void LogAdmin(ILogger logger, string endPoint, bool token);

    [ZLoggerMessage(LogLevel.Information, "web listener on {scheme}://{endPoint}/ (web client at /, WebSocket gateway at /ws)")]
    private static partial void LogWeb(ILogger logger, string scheme, string endPoint);

    [ZLoggerMessage(LogLevel.Information, "ready: serving chat on {listeners} with {reactors} reactors")]
    private static partial void LogReady(ILogger logger, string listeners, int reactors);

    [ZLoggerMessage(LogLevel.Information, "stopping (deadline {seconds} s)")]
    private static partial void LogStopping(ILogger logger, int seconds);

    [ZLoggerMessage(LogLevel.Information, "stopped")]
    private static partial void LogStopped(ILogger logger);

    [ZLoggerMessage(LogLevel.Information, "stopped before serving: a stop signal came while waiting for MariaDB, Redis or the node lease")]
    private static partial void LogStoppedBeforeReady(ILogger logger);

    [ZLoggerMessage(LogLevel.Information, "configuration reloaded: {applied} key(s) applied, {restart} need a restart")]
    private static partial void LogReloaded(ILogger logger, int applied, int restart);

    [ZLoggerMessage(LogLevel.Information, "reload: {key} {old} -> {now} applied")]
    private static partial void LogKeyApplied(ILogger logger, string key, string old, string now);

    [ZLoggerMessage(LogLevel.Warning, "reload: {key} {old} -> {now} needs restart; the running value stays until then")]
    private static partial void LogKeyNeedsRestart(ILogger logger, string key, string old, string now);

    [ZLoggerMessage(LogLevel.Error, "configuration reload rejected, nothing changed: {reason}")]
    private static partial void LogReloadRejected(ILogger logger, string reason);

    [ZLoggerMessage(LogLevel.Warning, "open-file limit is {limit}, below server.max_clients={maxClients}: raise LimitNOFILE / ulimit -n or lower max_clients")]
    private static partial void LogFileLimitLow(ILogger logger, long limit, int maxClients);

    [ZLoggerMessage(LogLevel.Critical, "cannot start: {reason}")]
    private static partial void LogFatal(ILogger logger, string reason);
}

/// <summary>Maps SIGTERM/SIGINT to a graceful stop and SIGHUP to a reload, for as long as it lives.</summary>
internal sealed class SignalHandlers : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    public SignalHandlers(CancellationTokenSource stopping, Action reload)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); }),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopping.Cancel(); }),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; ThreadPool.QueueUserWorkItem(_ => reload()); }),
        ];
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
