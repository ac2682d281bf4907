using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using QkChat.Client;
using QkChat.Core.Accounts;
using QkChat.Core.Dispatch;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using QkChat.Server.Hosting;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Every chat feature wired as the server wires them (ChatFeatures) on the real engine, a throwaway MariaDB
/// database and the stack's Redis. Users are created in the database directly (registration has its own tests)
/// and log in through the protocol.
/// </summary>
internal sealed class ChatHarness : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    /// <summary>The password of every user <see cref="CreateUserAsync"/> makes.</summary>
    public const string Password = "a long enough secret";

    private readonly PasswordWorkPool _pool;
    private readonly List<ChatClient> _clients = [];
    private string? _hash;

    private ChatHarness(TempDatabase db, MySqlDataSource data, ConnectionMultiplexer redis, PasswordWorkPool pool, ChatFeatures features,
        InProcessServer server, CapturingMailer mailer)
    {
        Mailer = mailer;
        Db = db;
        Data = data;
        Redis = redis;
        _pool = pool;
        Features = features;
        Server = server;
    }

    public TempDatabase Db { get; }

    /// <summary>The database the features use: the throwaway one, or the one a test passed (an outage test's own).</summary>
    public MySqlDataSource Data { get; }
    public ConnectionMultiplexer Redis { get; }
    public ChatFeatures Features { get; }
    public InProcessServer Server { get; }

    /// <summary>The public HTTP listener over <see cref="Server"/>'s engine, once <see cref="StartWebAsync"/> ran.</summary>
    public QkChat.Server.Web.WebServer? Web { get; private set; }

    /// <summary>
    /// Starts the web listener (Kestrel, web client files, WebSocket gateway) on a free loopback port over this
    /// harness's engine, as qkchatd composes it; <paramref name="configure"/> changes its options (origins, TLS).
    /// </summary>
    public async Task<QkChat.Server.Web.WebServer> StartWebAsync(Action<QkChat.Server.Web.HttpOptions>? configure = null,
        (string Cert, string Key)? certificate = null)
    {
        var options = new QkChat.Server.Web.HttpOptions { Port = 0 };
        configure?.Invoke(options);
        Web = await QkChat.Server.Web.WebServer.StartAsync(options, Server.Engine, certificate, [], NullLoggerFactory.Instance, CancellationToken.None);
        return Web;
    }

    /// <summary>The mails the features sent (registration codes), by address.</summary>
    public CapturingMailer Mailer { get; }

    /// <param name="chatDb">Another MariaDB (a test that stops its own); migrated here.</param>
    /// <param name="redisPort">Another Redis than the stack's (a test that stops its own).</param>
    /// <param name="messageClock">The clock message ids are minted from (a test that sets it by hand).</param>
    /// <param name="groups">Group chat settings (a test of the member cap sets a small one).</param>
    /// <param name="chat">Session settings (timeouts, limits) of the in-process server.</param>
    /// <param name="files">File transfer settings (a test of uploads gives its own directory and limits).</param>
    /// <param name="fileClock">The clock of uploads, URLs and the file sweeper (a test that moves time).</param>
    /// <param name="loggers">Where the features log (a test that checks what an operator reads); default: nowhere.</param>
    /// <param name="lease">A node lease (the caller's, disposed by it): the features route as qkchatd does, through
    /// ClusterDelivery and its group push order; default: this process's devices alone (LocalDelivery).</param>
    /// <param name="writerDb">The write-behind writers' own pool, as qkchatd gives them; default: <paramref name="chatDb"/>'s.</param>
    public static async Task<ChatHarness> StartAsync(MessagingOptions? messaging = null, MySqlDataSource? chatDb = null, int? redisPort = null,
        TimeProvider? messageClock = null, GroupOptions? groups = null, Action<ChatOptions>? chat = null,
        QkChat.Core.Files.FileTransferOptions? files = null, TimeProvider? fileClock = null, ILoggerFactory? loggers = null,
        QkChat.Server.Cluster.NodeLease? lease = null, MySqlDataSource? writerDb = null)
    {
        var db = await TempDatabase.CreateAsync();
        var data = chatDb ?? db.DataSource;
        await new Migrator(data, Migration.Embedded(), NullLogger.Instance).MigrateAsync(CancellationToken.None);
        var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { TestStack.RedisHost, redisPort ?? TestStack.RedisPort } },
            AbortOnConnectFail = false,
            BacklogPolicy = BacklogPolicy.FailFast,
            AsyncTimeout = 2000,
        });
        var pool = new PasswordWorkPool(new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024), workers: 2);
        var mailer = new CapturingMailer();
        var features = new ChatFeatures(new AccountOptions(), messaging ?? new MessagingOptions(), "test", data, redis,
            mailer, pool, loggers ?? NullLoggerFactory.Instance, messageClock: messageClock, groupOptions: groups, fileOptions: files, fileClock: fileClock,
            lease: lease, idPermit: lease?.Permit, writerDb: writerDb);
        await features.StartAsync(CancellationToken.None);
        var server = InProcessServer.Start(chat: chat, routes: features.Register);
        return new ChatHarness(db, data, redis, pool, features, server, mailer);
    }

    /// <summary>A user straight into the database (a unique name unless given); returns its id and name.</summary>
    public async Task<(uint Id, string Name)> CreateUserAsync(string? username = null)
    {
        _hash ??= _pool.HashNow(Password);
        string name = username ?? AccountsHarness.UniqueName();
        var (_, user) = await new MySqlUserStore(Data).CreateAsync(name, name + "@example.org", _hash, CancellationToken.None);
        return (user!.UserId, name);
    }

    /// <summary>A connection that is not logged in, from a random loopback address; the caller disposes it.</summary>
    public Task<ChatClient> ConnectAsync() => ChatClient.ConnectAsync("127.0.0.1", Server.Port, new ChatClientOptions
    {
        LocalAddress = AccountsHarness.RandomLoopback(),
    });

    /// <summary>A logged-in connection of <paramref name="name"/> over the web listener's WebSocket (<see cref="StartWebAsync"/> first).</summary>
    public async Task<ChatClient> LoginWebSocketAsync(string name, string device = "browser")
    {
        var client = await ChatClient.ConnectWebSocketAsync(new Uri($"ws://127.0.0.1:{Web!.EndPoint.Port}/ws"),
            new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });
        _clients.Add(client);
        await Ok(AccountsHarness.Login(client, name, Password, device));
        return client;
    }

    /// <summary>
    /// A user registered through the protocol as a client does it (send_verification_code with the mailed code, then
    /// register), with its own password; no device logged in.
    /// </summary>
    public async Task<RegisteredUser> RegisterAsync()
    {
        await using var client = await ConnectAsync();
        string name = AccountsHarness.UniqueName(), email = name + "@example.org", password = "correct horse " + name;
        await Ok(client.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "register"); }));
        var data = await Ok(client.RequestAsync("register", w =>
        {
            w.WriteString("username", name);
            w.WriteString("email", email);
            w.WriteString("password", password);
            w.WriteString("verification_code", Mailer.CodeFor(email));
        }));
        return new RegisteredUser(data.GetProperty("user_id").GetUInt32(), name, email, password);
    }

    public async Task MakeFriendsAsync(uint a, uint b)
    {
        await using var connection = await Data.OpenConnectionAsync();
        await using var command = new MySqlCommand("INSERT INTO friendships (user_id, friend_id, created_at) VALUES (@a, @b, 0), (@b, @a, 0)", connection);
        command.Parameters.AddWithValue("@a", a);
        command.Parameters.AddWithValue("@b", b);
        await command.ExecuteNonQueryAsync();
        await Features.FriendSets.Invalidate(a, b);
    }

    /// <summary>A logged-in connection of <paramref name="name"/> as device <paramref name="device"/>.</summary>
    public async Task<ChatClient> LoginAsync(string name, string device = "phone")
    {
        var client = await ChatClient.ConnectAsync("127.0.0.1", Server.Port, new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });
        _clients.Add(client);
        await Ok(AccountsHarness.Login(client, name, Password, device));
        return client;
    }

    public static async Task<JsonElement> Ok(Task<Envelope> request)
    {
        var response = await request;
        Assert.True(response.Code == ErrorCodes.Ok, $"{response.Action}: {response.Code} {response.Message}");
        return response.Data ?? default;
    }

    public static async Task<string> Code(Task<Envelope> request) => (await request).Code!;

    public static Task<Envelope> Send(ChatClient client, uint to, string content, string? clientMsgId = null) =>
        client.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", to);
            w.WriteString("content", content);
            w.WriteString("type", "text");
            if (clientMsgId is not null) w.WriteString("client_msg_id", clientMsgId);
        });

    public static async Task<long> SendOk(ChatClient client, uint to, string content, string? clientMsgId = null) =>
        (await Ok(Send(client, to, content, clientMsgId))).GetProperty("message_id").GetInt64();

    public static Task<Envelope> Push(ChatClient client, string action) => client.WaitForPushAsync(action, Patience);

    /// <summary>
    /// Asserts that no push named <paramref name="action"/> came before a marker: a heartbeat sent now, whose answer
    /// nobody claims, so it lands in the inbox in arrival order. The server writes a connection's frames in order,
    /// so a push caused by anything answered before this call (on any connection: the push is queued to this
    /// connection before that answer is written) arrives before the marker's answer. No clock involved.
    /// </summary>
    public static async Task NoPush(ChatClient client, string action)
    {
        string marker = "no-push-marker-" + Guid.NewGuid().ToString("N");
        await client.SendFrameAsync(System.Text.Encoding.UTF8.GetBytes($$"""{"action":"heartbeat","request_id":"{{marker}}"}"""));
        var first = await client.WaitForAsync(e => (e.Push && e.Action == action) || (!e.Push && e.RequestId == marker),
            Patience, $"a '{action}' push or the marker's answer");
        Assert.False(first.Push, $"unexpected '{action}' push before the marker: {first.Data}");
    }

    public static long[] Ids(JsonElement messages) => messages.EnumerateArray().Select(m => m.GetProperty("message_id").GetInt64()).ToArray();

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync();
        await Server.DisposeAsync();
        if (Web is not null) await Web.DisposeAsync();
        await Features.DisposeAsync();
        _pool.Dispose();
        await Redis.DisposeAsync();
        await Db.DisposeAsync();
    }
}

/// <summary>A user created through <see cref="ChatHarness.RegisterAsync"/>.</summary>
internal sealed record RegisteredUser(uint Id, string Name, string Email, string Password);
