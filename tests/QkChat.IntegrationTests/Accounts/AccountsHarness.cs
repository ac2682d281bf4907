using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Client;
using QkChat.Core.Accounts;
using QkChat.Core.Routing;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>
/// The real account service on the real engine, MariaDB (a throwaway database) and Redis. Mail is captured in
/// memory here (SMTP delivery has its own tests). Each client connects from its own random 127.x.y.z address so
/// per-address limits never collide between tests or runs.
/// </summary>
internal sealed class AccountsHarness : IAsyncDisposable
{
    private AccountsHarness(TempDatabase db, ConnectionMultiplexer redis, InProcessServer server, CapturingMailer mailer, PasswordWorkPool pool)
    {
        Db = db;
        Redis = redis;
        Server = server;
        Mailer = mailer;
        _pool = pool;
    }

    private readonly PasswordWorkPool _pool;

    public TempDatabase Db { get; }
    public ConnectionMultiplexer Redis { get; }
    public InProcessServer Server { get; }
    public CapturingMailer Mailer { get; }

    /// <param name="redisPort">Another Redis than the stack's (a test that stops and restarts its own).</param>
    /// <param name="codeValidity">A shorter code lifetime, for expiry tests.</param>
    /// <param name="userDb">Another MariaDB for the account stores (a test that stops and restarts its own).</param>
    /// <param name="listenOn">Another listening address than 127.0.0.1 (::1 for the IPv6 keying tests).</param>
    public static async Task<AccountsHarness> StartAsync(int? redisPort = null, TimeSpan? codeValidity = null,
        MySqlConnector.MySqlDataSource? userDb = null, IPAddress? listenOn = null, string? redisEndpoints = null)
    {
        var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(CancellationToken.None);
        // The server's own settings for a lost Redis: fail a command after 2 s, keep reconnecting in the background.
        var config = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            BacklogPolicy = BacklogPolicy.FailFast,
            AsyncTimeout = 2000,
            ConnectTimeout = 2000,
        };
        // redisEndpoints: a Redis Cluster's seed list, read the way the server reads redis.host.
        if (redisEndpoints is not null) Backends.AddEndPoints(config, new RedisOptions { Host = redisEndpoints });
        else config.EndPoints.Add(TestStack.RedisHost, redisPort ?? TestStack.RedisPort);
        var redis = await ConnectionMultiplexer.ConnectAsync(config);
        var options = new AccountOptions { CodeValidity = codeValidity ?? new AccountOptions().CodeValidity };
        var mailer = new CapturingMailer();
        // Light Argon2id parameters: the tests exercise the flow, docs/passwords.md measures the real cost.
        var pool = new PasswordWorkPool(new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024), workers: 2);
        var stores = userDb ?? db.DataSource;
        var service = new AccountService(options, new MySqlUserStore(stores), new SessionStore(stores, redis, options),
            new RedisVerificationCodes(redis, options), new RedisLoginThrottle(redis), mailer, pool, new LocalDelivery(new LiveSessions()), NullLogger.Instance);
        var availability = new AvailabilityService(new MySqlUserStore(stores),
            new RedisPerMinuteBudget(redis, RedisPerMinuteBudget.AvailabilityPrefix), NullLogger.Instance);
        var server = InProcessServer.Start(transport: t => t.Address = listenOn ?? IPAddress.Loopback, routes: (router, dispatcher) =>
        {
            service.Register(router, dispatcher);
            availability.Register(router);
        });
        return new AccountsHarness(db, redis, server, mailer, pool);
    }

    public Task<ChatClient> ConnectAsync(IPAddress? from = null) => ChatClient.ConnectAsync("127.0.0.1", Server.Port, new ChatClientOptions
    {
        LocalAddress = from ?? RandomLoopback(),
    });

    public static IPAddress RandomLoopback() =>
        new([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(1, 255)]);

    public static string UniqueName() => "u" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Registers a fresh user through the protocol and returns (username, email, password).</summary>
    public async Task<(string Username, string Email, string Password)> RegisterAsync(ChatClient client)
    {
        string name = UniqueName(), email = name + "@example.org", password = "correct horse " + name;
        await Ok(client.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "register"); }));
        await Ok(client.RequestAsync("register", w =>
        {
            w.WriteString("username", name);
            w.WriteString("email", email);
            w.WriteString("password", password);
            w.WriteString("verification_code", Mailer.CodeFor(email));
        }));
        return (name, email, password);
    }

    public static Task<Envelope> Login(ChatClient client, string login, string password, string clientId = "phone") =>
        client.RequestAsync("login", w =>
        {
            w.WriteString("username", login);
            w.WriteString("password", password);
            w.WriteString("client_id", clientId);
        });

    public static async Task<Envelope> Ok(Task<Envelope> request)
    {
        var response = await request;
        Xunit.Assert.True(response.Code == ErrorCodes.Ok, $"{response.Action}: {response.Code} {response.Message}");
        return response;
    }

    public static JsonElement Data(Envelope e) => e.Data!.Value;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _pool.Dispose();
        await Redis.DisposeAsync();
        await Db.DisposeAsync();
    }
}

/// <summary>Keeps the mails the service queued, so a test can read the code a user would.</summary>
internal sealed class CapturingMailer : IMailer
{
    private readonly ConcurrentDictionary<string, VerificationMail> _last = new(StringComparer.OrdinalIgnoreCase);

    public bool TryEnqueue(VerificationMail mail)
    {
        _last[mail.To] = mail;
        return true;
    }

    public string CodeFor(string email) =>
        _last.TryGetValue(email, out var mail) ? mail.Code : throw new InvalidOperationException("no mail to " + email);

    public bool Has(string email) => _last.ContainsKey(email);
}
