using System.Net;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Client;
using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.IntegrationTests.Mail;
using QkChat.Server.Accounts;
using QkChat.Server.Audit;
using QkChat.Server.Hosting;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace QkChat.IntegrationTests.Audit;

/// <summary>
/// Every feature wired as the server wires them (ChatFeatures, so the real audit log) on the real engine, a throwaway
/// database and the stack's Redis, with small send queues (slow consumers) and low failed-login limits. Every log
/// line is captured, so a test can prove a secret never reached it. Each client connects from its own random
/// 127.x.y.z address, so a test reads exactly its own audit rows by address.
/// </summary>
internal sealed class AuditHarness : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly PasswordWorkPool _pool;
    private readonly ConnectionMultiplexer _redis;

    private AuditHarness(TempDatabase db, ConnectionMultiplexer redis, PasswordWorkPool pool, ChatFeatures features,
        InProcessServer server, CapturingMailer mailer, CapturingLogger log)
    {
        Db = db;
        _redis = redis;
        _pool = pool;
        Features = features;
        Server = server;
        Mailer = mailer;
        Log = log;
    }

    public TempDatabase Db { get; }
    public ChatFeatures Features { get; }
    public InProcessServer Server { get; }
    public CapturingMailer Mailer { get; }
    public CapturingLogger Log { get; }

    public static async Task<AuditHarness> StartAsync(LoginLimits? limits = null, AuditOptions? audit = null)
    {
        var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(CancellationToken.None);
        var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { TestStack.RedisHost, TestStack.RedisPort } },
            AbortOnConnectFail = false,
            AsyncTimeout = 2000,
        });
        var pool = new PasswordWorkPool(new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024), workers: 2);
        var mailer = new CapturingMailer();
        var log = new CapturingLogger();
        var features = new ChatFeatures(new AccountOptions(), new MessagingOptions(), "test", db.DataSource, redis, mailer, pool,
            new OneLoggerFactory(log), audit, limits);
        await features.StartAsync(CancellationToken.None);
        var server = InProcessServer.Start(
            t => { t.SendQueueLowBytes = 16 * 1024; t.SendQueueHighBytes = 64 * 1024; t.SendQueueHardCapBytes = 256 * 1024; },
            c => c.MaxConsecutiveBadFrames = 3,
            (router, dispatcher) =>
            {
                features.Register(router, dispatcher);
                Flood(router);
            });
        return new AuditHarness(db, redis, pool, features, server, mailer, log);
    }

    /// <summary>A test action that queues 64 pushes of 16 KB to the caller: a server pushing to a client that does not read.</summary>
    private static void Flood(ActionRouter router) =>
        router.Register("flood", true, ctx =>
        {
            for (int i = 0; i < 64; i++)
                if (!ctx.Connection.Send(Frames.CreatePush("filler", i, static (w, n) => { w.WriteNumber("n"u8, n); w.WriteString("pad"u8, new string('f', 16_000)); })))
                    return;
            ctx.Respond("OK", "ok");
        });

    public Task<ChatClient> ConnectAsync(IPAddress from) =>
        ChatClient.ConnectAsync("127.0.0.1", Server.Port, new ChatClientOptions { LocalAddress = from });

    /// <summary>Waits until the audit writer has stored everything recorded so far.</summary>
    public async Task FlushAsync()
    {
        if (!await Features.Audit.WhenIdleAsync(Patience)) throw new TimeoutException("audit log not flushed");
    }

    /// <summary>Every stored row, oldest first, whose address is <paramref name="ip"/> or whose user is <paramref name="userId"/>.</summary>
    public async Task<List<AuditEntry>> RowsAsync(IPAddress? ip = null, uint? userId = null)
    {
        await FlushAsync();
        var rows = await new MySqlAuditStore(Db.DataSource).QueryAsync(new AuditQuery(userId, ip?.ToString(), null, 10_000), CancellationToken.None);
        return rows.Reverse().ToList();
    }

    /// <summary>Every column of every stored row, as one string (to prove a secret is nowhere in the table).</summary>
    public async Task<string> WholeTableAsync()
    {
        await FlushAsync();
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(
            "SELECT CONCAT_WS('|', event_id, at, event, user_id, client_id, device, ip, outcome, detail) FROM audit_events", connection);
        var all = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) all.Add(reader.GetString(0));
        return string.Join("\n", all);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Features.DisposeAsync();
        _pool.Dispose();
        await _redis.DisposeAsync();
        await Db.DisposeAsync();
    }
}

/// <summary>Hands the same capturing logger to every category.</summary>
internal sealed class OneLoggerFactory(ILogger logger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
