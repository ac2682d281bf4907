using System.Text.Json;
using QkChat.Client;
using QkChat.Core.Friends;
using QkChat.Core.Routing;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Chat;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.Friends;

/// <summary>
/// The friends tests' view of <see cref="ChatHarness"/>: every chat feature wired as the server wires them
/// (ChatFeatures: accounts, friends, presence with the Redis directory and the MariaDB last-seen store, messaging)
/// on the real engine, a throwaway database and the stack's Redis. Users register through the protocol and come
/// with two logged-in devices (phone and laptop); <see cref="Changes"/> records every FriendshipChanged event.
/// </summary>
internal sealed class FriendsHarness : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private FriendsHarness(ChatHarness chat)
    {
        Chat = chat;
        // After the features' own handler (the friend-set cache), like any other listener of the server's.
        chat.Features.Friends.FriendshipChanged += (a, b) =>
        {
            lock (Changes) Changes.Add((a, b));
        };
    }

    public ChatHarness Chat { get; }
    public TempDatabase Db => Chat.Db;
    public InProcessServer Server => Chat.Server;
    public CapturingMailer Mailer => Chat.Mailer;
    public FriendService Friends => Chat.Features.Friends;
    public LiveSessions Live => Chat.Features.Live;

    /// <summary>Every FriendshipChanged event, in order.</summary>
    public List<(uint, uint)> Changes { get; } = [];

    public static async Task<FriendsHarness> StartAsync() => new(await ChatHarness.StartAsync());

    public Task<ChatClient> ConnectAsync() => Chat.ConnectAsync();

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
        var user = await Chat.RegisterAsync();
        return new TestUser(user.Id, user.Name, user.Email, user.Password);
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

    /// <summary>Logins made through <see cref="TestUser.LoginAsync"/>; each starts one owed-notice check on the server.</summary>
    public long Logins;

    /// <summary>
    /// Waits until the server has finished the owed-notice check of every login so far. A notice such a check
    /// delivers is queued to the connection before the check counts as finished, so a heartbeat marker sent after
    /// this (AssertNoFriendPushAsync) comes back after any such push: "nothing more was pushed" without a sleep.
    /// </summary>
    public async Task OwedChecksDoneAsync()
    {
        var deadline = DateTime.UtcNow + Wait;
        while (Friends.OwedChecksCompleted < Interlocked.Read(ref Logins))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{Friends.OwedChecksCompleted} of {Logins} login checks finished");
            await Task.Delay(20);
        }
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

    public ValueTask DisposeAsync() => Chat.DisposeAsync();
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
        Interlocked.Increment(ref h.Logins);
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
