using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using QkChat.Client;
using QkChat.Core.Accounts;
using QkChat.Core.Friends;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using QkChat.Server.Friends;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Friends;

/// <summary>
/// The real account, presence and friend services on the real engine, MariaDB (a throwaway database) and Redis,
/// sharing one LiveSessions as the server does. Users come with two logged-in devices (phone and laptop).
/// </summary>
internal sealed class FriendsHarness : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly PasswordWorkPool _pool;
    private readonly PresenceService _presence;

    private FriendsHarness(TempDatabase db, ConnectionMultiplexer redis, InProcessServer server, CapturingMailer mailer,
        PasswordWorkPool pool, PresenceService presence, FriendService friends, MySqlFriendStore store, LiveSessions live)
    {
        Live = live;
        Db = db;
        Redis = redis;
        Server = server;
        Mailer = mailer;
        _pool = pool;
        _presence = presence;
        Friends = friends;
        Store = store;
    }

    public TempDatabase Db { get; }
    public ConnectionMultiplexer Redis { get; }
    public InProcessServer Server { get; }
    public CapturingMailer Mailer { get; }
    public FriendService Friends { get; }
    public MySqlFriendStore Store { get; }
    public LiveSessions Live { get; }

    /// <summary>Every FriendshipChanged event, in order.</summary>
    public List<(uint, uint)> Changes { get; } = [];

    public static async Task<FriendsHarness> StartAsync()
    {
        var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(CancellationToken.None);
        var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { TestStack.RedisHost, TestStack.RedisPort } },
            AbortOnConnectFail = false,
            AsyncTimeout = 2000,
            ConnectTimeout = 2000,
        });
        var options = new AccountOptions();
        var mailer = new CapturingMailer();
        var pool = new PasswordWorkPool(new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024), workers: 2);
        var live = new LiveSessions();
        var accounts = new AccountService(options, new MySqlUserStore(db.DataSource), new SessionStore(db.DataSource, redis, options),
            new RedisVerificationCodes(redis, options), new RedisLoginThrottle(redis), mailer, pool, live, NullLogger.Instance);
        var store = new MySqlFriendStore(db.DataSource);
        var cache = new FriendSetCache(store);
        var tracker = new PresenceTracker();
        var presence = new PresenceService(tracker, cache, live, new SqlLastSeen(db.DataSource), new NoDirectory(), NullLogger.Instance);
        var friends = new FriendService(store, live, tracker, NullLogger.Instance);
        var server = InProcessServer.Start(routes: (router, dispatcher) =>
        {
            accounts.Register(router, dispatcher);
            presence.Register(router, dispatcher);
            friends.Register(router, dispatcher);
        });
        var harness = new FriendsHarness(db, redis, server, mailer, pool, presence, friends, store, live);
        friends.FriendshipChanged += (a, b) =>
        {
            cache.Invalidate(a, b);
            lock (harness.Changes) harness.Changes.Add((a, b));
        };
        return harness;
    }

    public Task<ChatClient> ConnectAsync() => ChatClient.ConnectAsync("127.0.0.1", Server.Port, new ChatClientOptions
    {
        LocalAddress = AccountsHarness.RandomLoopback(),
    });

    /// <summary>A registered user, logged in on <paramref name="devices"/> devices ("phone", then "laptop").</summary>
    public async Task<TestUser> NewUserAsync(int devices = 2)
    {
        var user = await RegisterAsync();
        if (devices >= 1) await user.LoginAsync(this, "phone");
        if (devices >= 2) await user.LoginAsync(this, "laptop");
        return user;
    }

    /// <summary>A registered user with no device online.</summary>
    public async Task<TestUser> RegisterAsync()
    {
        await using var client = await ConnectAsync();
        string name = AccountsHarness.UniqueName(), email = name + "@example.org", password = "correct horse " + name;
        await Ok(client.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "register"); }));
        var data = Data(await Ok(client.RequestAsync("register", w =>
        {
            w.WriteString("username", name);
            w.WriteString("email", email);
            w.WriteString("password", password);
            w.WriteString("verification_code", Mailer.CodeFor(email));
        })));
        return new TestUser(data.GetProperty("user_id").GetUInt32(), name, email, password);
    }

    /// <summary>A friend request from <paramref name="from"/> to <paramref name="to"/>'s id; returns its id.</summary>
    public static async Task<ulong> RequestAsync(TestUser from, TestUser to, string message = "hi")
    {
        var data = Data(await Ok(from.Phone.RequestAsync("friend_request", w =>
        {
            w.WriteNumber("user_identifier", to.Id);
            w.WriteString("message", message);
        })));
        return data.GetProperty("friend_request_id").GetUInt64();
    }

    public static Task<Envelope> Respond(ChatClient client, ulong requestId, bool accept) =>
        client.RequestAsync("respond_friend_request", w => { w.WriteNumber("friend_request_id", requestId); w.WriteBoolean("accept", accept); });

    /// <summary>Makes two users friends through the protocol, and drains the pushes it caused.</summary>
    public static async Task BefriendAsync(TestUser a, TestUser b)
    {
        ulong id = await RequestAsync(a, b);
        // Told first: a request answered before its push went out is never pushed (it is no longer pending).
        foreach (var device in b.Devices) await device.WaitForPushAsync("friend_request", Wait);
        await Ok(Respond(b.Phone, id, accept: true));
        foreach (var device in a.Devices) await device.WaitForPushAsync("friend_request_result", Wait);
    }

    public static async Task<List<JsonElement>> FriendListAsync(ChatClient client) =>
        Data(await Ok(client.RequestAsync("get_friend_list"))).GetProperty("friends").EnumerateArray().ToList();

    /// <summary>
    /// Asserts that no friend push waits for <paramref name="client"/>. A heartbeat round trip first: a push queued
    /// before it (on the server) arrives before its answer.
    /// </summary>
    public static async Task AssertNoFriendPushAsync(ChatClient client)
    {
        await Ok(client.RequestAsync("heartbeat"));
        while (client.TryReceiveAny(out var envelope))
            Assert.False(envelope.Action is "friend_request" or "friend_request_result" or "friend_deleted",
                $"unexpected {envelope.Action} push: {envelope.Data}");
    }

    /// <summary>Drains the inbox (after a heartbeat round trip) and counts the friend pushes in it by name.</summary>
    public static async Task<Dictionary<string, int>> FriendPushCountsAsync(ChatClient client)
    {
        await Ok(client.RequestAsync("heartbeat"));
        var counts = new Dictionary<string, int>();
        while (client.TryReceiveAny(out var envelope))
        {
            if (envelope.Action is "friend_request" or "friend_request_result" or "friend_deleted")
                counts[envelope.Action] = counts.GetValueOrDefault(envelope.Action) + 1;
        }
        return counts;
    }

    /// <summary>Polls a COUNT query until it gives <paramref name="expected"/> (the server writes after it pushes).</summary>
    public async Task WaitForCountAsync(string sql, long expected)
    {
        var deadline = DateTime.UtcNow + Wait;
        long last;
        while ((last = await Db.ScalarAsync(sql)) != expected)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{sql}: {last}, expected {expected}");
            await Task.Delay(20);
        }
    }

    public static Task<Envelope> Ok(Task<Envelope> request) => AccountsHarness.Ok(request);

    public static JsonElement Data(Envelope e) => e.Data!.Value;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await _presence.DisposeAsync();
        _pool.Dispose();
        await Redis.DisposeAsync();
        await Db.DisposeAsync();
    }

    /// <summary>users.last_seen_at, as the server's own store writes it.</summary>
    private sealed class SqlLastSeen(MySqlDataSource db) : ILastSeenStore
    {
        public async Task SetLastSeenAsync(uint userId, long at, CancellationToken ct)
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand("UPDATE users SET last_seen_at = @t WHERE user_id = @u", connection);
            command.Parameters.AddWithValue("@t", at);
            command.Parameters.AddWithValue("@u", userId);
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private sealed class NoDirectory : IPresenceDirectory
    {
        public Task DeviceOnlineAsync(uint userId, string clientId, CancellationToken ct) => Task.CompletedTask;
        public Task DeviceOfflineAsync(uint userId, string clientId, CancellationToken ct) => Task.CompletedTask;
        public Task RefreshAsync(IReadOnlyCollection<(uint UserId, string ClientId)> devices, CancellationToken ct) => Task.CompletedTask;
        public Task<IReadOnlyList<string>> NodesOfAsync(uint userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);
    }
}

/// <summary>A user and their logged-in devices.</summary>
internal sealed class TestUser(uint id, string name, string email, string password) : IAsyncDisposable
{
    private readonly Dictionary<string, ChatClient> _devices = new();

    public uint Id { get; } = id;
    public string Name { get; } = name;
    public string Email { get; } = email;
    public string Password { get; } = password;

    public ChatClient Phone => _devices["phone"];
    public ChatClient Laptop => _devices["laptop"];
    public IEnumerable<ChatClient> Devices => _devices.Values;

    public async Task<ChatClient> LoginAsync(FriendsHarness h, string clientId)
    {
        var client = await h.ConnectAsync();
        await AccountsHarness.Ok(AccountsHarness.Login(client, Name, Password, clientId));
        _devices[clientId] = client;
        return client;
    }

    /// <summary>Closes a device's connection and waits until the server has let it go.</summary>
    public async Task LogoutAsync(FriendsHarness h, string clientId)
    {
        var client = _devices[clientId];
        _devices.Remove(clientId);
        await client.RequestAsync("logout");
        await client.Closed.WaitAsync(FriendsHarness.Wait);
        await client.DisposeAsync();
        await h.Server.EventuallyAsync(() => h.Live.Find(Id, clientId) is null, "device " + clientId + " unregistered");
    }

    public async Task LogoutAllAsync(FriendsHarness h)
    {
        foreach (string clientId in _devices.Keys.ToList()) await LogoutAsync(h, clientId);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _devices.Values) await client.DisposeAsync();
        _devices.Clear();
    }
}
