using System.Collections.Concurrent;
using System.Text;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Lines of /work/shared/failure-modes.md (the original servers' real failures) that no other test covered: two-way
/// chat between many pairs at once, a reused connection slot, forged and misused tokens, and a heartbeat that claims
/// to be someone else.
/// </summary>
public sealed class OriginalFailureModeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>"In two-way chat, 50 of 50 pairs lost or misrouted messages."</summary>
    [Fact(Timeout = 300_000)] // 100 password logins and 1,000 messages on a loaded 2-core box: minutes at worst
    public async Task Fifty_pairs_chatting_both_ways_at_once_get_every_message_exactly_once_from_the_right_sender()
    {
        const int pairs = 50, perSide = 10;
        await using var h = await StartAsync();
        var users = new (uint Id, string Name)[pairs * 2];
        for (int i = 0; i < users.Length; i++) users[i] = await h.CreateUserAsync();
        for (int p = 0; p < pairs; p++) await h.MakeFriendsAsync(users[2 * p].Id, users[2 * p + 1].Id);
        var clients = new ChatClient[users.Length];
        // A few logins at a time: each costs a password hash, and the pool refuses a burst past its queue.
        for (int i = 0; i < users.Length; i += 10)
        {
            var batch = Enumerable.Range(i, Math.Min(10, users.Length - i)).Select(async k => clients[k] = await h.LoginAsync(users[k].Name));
            await Task.WhenAll(batch);
        }

        // Everyone sends at once: each side of each pair its own numbered messages to the other.
        var acknowledged = new ConcurrentDictionary<long, string>();
        await Task.WhenAll(Enumerable.Range(0, users.Length).Select(async k =>
        {
            int partner = k ^ 1;
            for (int i = 0; i < perSide; i++)
            {
                string content = $"from {users[k].Id} to {users[partner].Id} #{i}";
                Assert.True(acknowledged.TryAdd(await SendOk(clients[k], users[partner].Id, content), content), "a message id given twice");
            }
        }));
        Assert.Equal(users.Length * perSide, acknowledged.Count);

        // Each receives exactly its partner's messages, in the order sent, and nothing else before a marker.
        await Task.WhenAll(Enumerable.Range(0, users.Length).Select(async k =>
        {
            int partner = k ^ 1;
            for (int i = 0; i < perSide; i++)
            {
                var push = (await clients[k].WaitForPushAsync("message", TimeSpan.FromSeconds(60), Ct)).Data!.Value;
                Assert.Equal(users[partner].Id, push.GetProperty("sender_id").GetUInt32());
                Assert.Equal($"from {users[partner].Id} to {users[k].Id} #{i}", push.GetProperty("content").GetString());
                Assert.Equal(acknowledged[push.GetProperty("message_id").GetInt64()], push.GetProperty("content").GetString());
            }
            await NoPush(clients[k], "message"); // no duplicate, no stranger's message
        }));
    }

    /// <summary>"A disconnected user stayed online, their socket number was reused, and another user received their messages."</summary>
    [Fact(Timeout = 120_000)]
    public async Task A_closed_connections_slot_reused_by_a_new_client_never_gets_the_old_users_messages()
    {
        await using var h = await StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (_, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var sender = await h.LoginAsync(bName);
        var aPhone = await h.LoginAsync(aName);
        await SendOk(sender, a, "while online");
        await Push(aPhone, "message");

        int before = h.Server.Engine.OpenConnections;
        await aPhone.DisposeAsync();
        await h.Server.EventuallyAsync(() => h.Server.Engine.OpenConnections == before - 1, "the server saw the close", 30_000);
        // The next connections take the freed descriptor and connection slot first: one anonymous, one another user.
        await using var anonymous = await h.ConnectAsync();
        var other = await h.LoginAsync(cName);

        await SendOk(sender, a, "after the close"); // stored for a, who is offline now
        await NoPush(anonymous, "message");
        await NoPush(other, "message");
        // a gets it at the next login, as an offline message: it was kept, not handed to whoever holds the slot.
        var back = await h.LoginAsync(aName, "laptop");
        var offline = (await back.WaitForPushAsync("offline_messages", Patience, Ct)).Data!.Value;
        Assert.Contains(offline.GetProperty("messages").EnumerateArray(), m => m.GetProperty("content").GetString() == "after the close");
    }

    /// <summary>"Session tokens derived from a hard-coded secret, a row id and the login second: forgeable."</summary>
    [Fact(Timeout = 120_000)]
    public async Task Forged_random_and_misused_tokens_answer_TOKEN_INVALID()
    {
        await using var h = await StartAsync();
        var alice = await h.RegisterAsync();
        await using var phone = await h.ConnectAsync();
        string token = (await AccountsHarness.Ok(AccountsHarness.Login(phone, alice.Name, alice.Password, "phone"))).Data!.Value
            .GetProperty("token").GetString()!;

        var forged = new List<string>
        {
            Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant(),               // random
            new string('0', token.Length),                                                      // all zeros, the right length
            token[..^1] + (token[^1] == 'a' ? 'b' : 'a'),                                       // one character off
            token[..^1] + Base64UrlAlphabet[Base64UrlAlphabet.IndexOf(token[^1]) ^ 1],          // same 32 bytes, unused bit flipped
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{alice.Id}:{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}")), // id and second
        };
        foreach (string guess in forged)
        {
            await using var attacker = await h.ConnectAsync();
            var answer = await attacker.RequestAsync("login_token", w => { w.WriteString("token", guess); w.WriteString("client_id", "phone"); });
            Assert.Equal(ErrorCodes.TokenInvalid, answer.Code);
            Assert.Equal(ErrorCodes.Unauthenticated, (await attacker.RequestAsync("get_friend_list")).Code);
        }

        // Alice's real token, presented for another device than the one it was issued to: refused too.
        await using var laptop = await h.ConnectAsync();
        var misused = await laptop.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "laptop"); });
        Assert.Equal(ErrorCodes.TokenInvalid, misused.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, (await laptop.RequestAsync("get_friend_list")).Code);
    }

    /// <summary>"Heartbeat trusted the user id in the request body: anyone could mark anyone online."</summary>
    [Fact(Timeout = 120_000)]
    public async Task A_heartbeat_naming_another_user_or_device_never_changes_who_the_connection_is()
    {
        await using var h = await StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        var (c, cName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        await h.MakeFriendsAsync(c, b);
        var aPhone = await h.LoginAsync(aName);
        var bPhone = await h.LoginAsync(bName);
        var cLaptop = await h.LoginAsync(cName, "laptop");

        // Logged in as a, claiming to be c's laptop; and a connection that never logged in claiming to be a.
        await aPhone.RequestAsync("heartbeat", w => { w.WriteNumber("user_id", c); w.WriteString("client_id", "laptop"); });
        await using var anonymous = await h.ConnectAsync();
        await anonymous.RequestAsync("heartbeat", w => { w.WriteNumber("user_id", a); w.WriteString("client_id", "phone"); });
        Assert.Equal(ErrorCodes.Unauthenticated, await Code(Send(anonymous, b, "as a?")));

        // a is still a: b sees a as the sender.
        await SendOk(aPhone, b, "from a");
        Assert.Equal(a, (await Push(bPhone, "message")).Data!.Value.GetProperty("sender_id").GetUInt32());
        // c's messages still go to c's laptop only, never to the connection that claimed it.
        await SendOk(bPhone, c, "for c");
        Assert.Equal("for c", (await Push(cLaptop, "message")).Data!.Value.GetProperty("content").GetString());
        await NoPush(aPhone, "message");
        await NoPush(anonymous, "message");
    }
}
