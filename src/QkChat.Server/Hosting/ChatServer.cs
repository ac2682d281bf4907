using System.Net;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Routing;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;
using QkChat.Server.Accounts;
using QkChat.Server.Configuration;
using QkChat.Server.Logging;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using QkChat.Transport;
using StackExchange.Redis;

namespace QkChat.Server.Hosting;

/// <summary>Composes the transport engine, the dispatcher and the chat features from the configuration; owns their lifetime.</summary>
public sealed partial class ChatServer : IAsyncDisposable
{
    private readonly TransportEngine _engine;
    private readonly Dispatcher _dispatcher;
    private readonly PasswordWorkPool _passwords;
    private readonly MySqlDataSource _writerDb;
    private readonly ILogger _logger;

    public ChatServer(ServerOptions options, ILoggerFactory loggers, MySqlDataSource db, IConnectionMultiplexer redis, IMailer mailer,
        LogLevelSwitch? logLevel = null, NodeIdPermit? idPermit = null, QkChat.Server.Cluster.NodeLease? lease = null)
    {
        _logger = loggers.CreateLogger("Server");
        var chat = ChatOptionsFrom(options);
        Router = new ActionRouter();
        _dispatcher = new Dispatcher(chat, Router, loggers.CreateLogger("Dispatch"));

        // Each layer gets its own copy of its settings: a reload changes the copy (LiveReload), not the configuration.
        var accounts = options.Accounts.Copy();
        var hasher = new Argon2idPasswordHasher(options.Passwords.MemoryKiB, options.Passwords.Iterations);
        CheckHasher(hasher);
        _passwords = new PasswordWorkPool(hasher, options.Passwords.Workers, options.Passwords.QueueCapacity,
            workerStart: () => ThreadNice.LowerCurrentThread());
        var messaging = options.Messaging.Copy();
        var loginLimits = options.LoginLimits.Copy();
        var audit = options.Audit.Copy();
        // The write-behind batchers get a small pool of their own: reads of a login storm used to take every connection
        // of the shared pool and stall all senders behind them.
        _writerDb = Backends.CreateDataSource(options.Database, maxPoolSize: WriterPoolSize(options.Groups.Writers, options.Messaging.Writers), name: "qkchat-writers");
        Features = new ChatFeatures(accounts, messaging, $"{Environment.MachineName}:{options.Transport.Port}", db, redis, mailer, _passwords, loggers,
            audit, loginLimits, _writerDb, groupOptions: options.Groups.Copy(), idPermit: idPermit, lease: lease,
            fileOptions: options.Files.Copy());
        Features.Register(Router, _dispatcher);
        Features.Availability.ChecksPerMinute = options.LookupLimits.AvailabilityChecksPerMinute;
        Features.Friends.SearchesPerMinute = options.LookupLimits.SearchUsersPerMinute;

        _engine = new TransportEngine(TransportOptionsFrom(options), _dispatcher, new TransportEventLog(loggers.CreateLogger("Transport")));
        Live = new LiveTargets
        {
            LogLevel = logLevel ?? new LogLevelSwitch(LogLevelSwitch.Parse(options.Log.Level)),
            Chat = chat,
            Transport = _engine.Options,
            Limiter = _engine.Limiter,
            Accounts = accounts,
            LoginLimits = loginLimits,
            Audit = audit,
            Messaging = Features.Messaging,
            GroupWriters = Features.Groups.Writers,
            Alerts = options.Alerts.Copy(),
        };
    }

    /// <summary>
    /// Connections of the writers' pool (docs/storage.md "Connection pools"): one for each writer that holds at most one
    /// at a time (each of the message.writers batches in flight, acks, the messages' search index, each of the
    /// group.writers group writers, the group entries' search index), plus one for each search index's catch-up at
    /// start, which runs beside that indexer's own loop: 5 + message.writers + group.writers (11 with the defaults 4
    /// and 2). So no writer ever waits for another's connection (a batch's deadlock retry gives its connection back
    /// before it takes one again). It was 6 + group.writers with one message writer.
    /// </summary>
    public static int WriterPoolSize(int groupWriters, int messageWriters = 1) => 5 + messageWriters + groupWriters;

    /// <summary>What a SIGHUP reload changes in place (<see cref="LiveReload"/>).</summary>
    public LiveTargets Live { get; }

    public ActionRouter Router { get; }

    /// <summary>Requests by action and code and their latency (the admin metrics and dashboard read them).</summary>
    public RequestMetrics Requests => _dispatcher.Requests;

    /// <summary>One hash at start (~17 ms): a missing or wrong libsodium fails here, clearly, not at the first login.</summary>
    private static void CheckHasher(Argon2idPasswordHasher hasher)
    {
        try
        {
            hasher.Hash("start-up self-check");
        }
        catch (Exception e) when (e is PlatformNotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            throw new StartupException("password hashing is unavailable (libsodium.so must sit next to qkchatd): " + (e.InnerException ?? e).Message);
        }
    }

    public ChatFeatures Features { get; }

    public AccountService Accounts => Features.Accounts;

    public TransportEngine Engine => _engine;

    /// <summary>The password hash pool (the admin metrics read its queue).</summary>
    public PasswordWorkPool Passwords => _passwords;

    /// <summary>Prepares the features (MariaDB must answer), then accepts connections.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await Features.StartAsync(ct);
        _engine.Start();
    }

    /// <summary>
    /// The graceful stop (architecture.md §4, docs/messaging.md "Stopping"): first the send writers stop taking sends
    /// and store and answer everything queued, while the connections are still open, so every send that was accepted
    /// is answered before `server_shutdown`; a send that arrives after that answers SERVER_BUSY. Then the engine tells
    /// every connection and closes it. The drain takes at most half of <paramref name="deadline"/>; if MariaDB is slower,
    /// the writers go on after the connections are closed (their entries are still stored, unanswered) and
    /// <see cref="DisposeAsync"/> waits for them.
    /// </summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        long until = Environment.TickCount64 + (long)deadline.TotalMilliseconds;
        var messages = Features.Messaging.Writer.DrainAsync();
        var groups = Features.Groups.Writers.DrainAsync();
        var both = Task.WhenAll(messages, groups);
        // At most half the deadline: the other half is for the connections to flush their answers and close.
        if (await Task.WhenAny(both, Task.Delay(deadline / 2)) == both)
        {
            var (m, g) = (messages.Result, groups.Result);
            LogDrained(_logger, m.Drained, m.Failed, g.Drained, g.Failed);
        }
        else LogDrainLate(_logger, Features.Messaging.Writer.Queued, Features.Groups.Writers.Queued);
        var left = TimeSpan.FromMilliseconds(Math.Max(0, until - Environment.TickCount64));
        await _engine.StopAsync(_dispatcher.CreateShutdownPush(), left);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped taking sends; drained before closing connections: {Messages} queued message(s) " +
        "({MessagesFailed} not stored) and {GroupEntries} queued group entr(ies) ({GroupEntriesFailed} not stored), each answered")]
    private static partial void LogDrained(ILogger logger, long messages, long messagesFailed, long groupEntries, long groupEntriesFailed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "stopped taking sends; the writers did not finish within the stop deadline ({Messages} message(s) " +
        "and {GroupEntries} group entr(ies) still queued): they are stored after the connections close, unanswered")]
    private static partial void LogDrainLate(ILogger logger, int messages, int groupEntries);

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        // After the connections: queued messages are stored (their senders are gone, the messages are not).
        await Features.DisposeAsync();
        await _writerDb.DisposeAsync();
        _passwords.Dispose();
    }

    /// <summary>The dispatcher's own copy of its session rules: a reload changes it (LiveReload), not the configuration.</summary>
    public static ChatOptions ChatOptionsFrom(ServerOptions o) => o.Chat.Copy();

    /// <summary>
    /// The engine's own copy of the transport settings (a reload changes it, not the configuration), plus what is
    /// derived rather than set: the listen address, the busy message, TLS.
    /// </summary>
    public static TransportOptions TransportOptionsFrom(ServerOptions o)
    {
        var transport = o.Transport.Copy();
        transport.Address = IPAddress.Parse(o.Listener.Host);
        transport.BusyBody = Frames.BusyBody();
        transport.Tls = o.Listener.TlsEnabled ? o.Tls.Copy() : null;
        return transport;
    }
}

/// <summary>Something the server needs at start is missing; the message says what.</summary>
public sealed class StartupException(string message) : Exception(message);
