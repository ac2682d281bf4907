using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using QkChat.Client;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using QkChat.Server.Storage;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>A clock that stands still: every id it mints is the previous one plus one, so a test knows the next id.</summary>
internal sealed class FrozenClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>
/// issue 16 point 2: a send answered `sent` always has its row. client_msg_id is compared byte for byte, a row that
/// INSERT IGNORE skipped for any other reason (a taken message id) is never answered `sent`, and message ids stay
/// above every stored one when the clock is behind them at start.
/// </summary>
public sealed class MessageIdentityTests
{
    private const string Password = "a long enough secret";

    [Fact(Timeout = 60_000)]
    public async Task Client_msg_ids_differing_only_in_case_accents_or_a_trailing_space_are_different_messages()
    {
        await using var h = await ChatHarness.StartAsync();
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var alice = await h.LoginAsync(aName);
        var bob = await h.LoginAsync(bName);

        string[] variants = ["Key", "key", "KEY", "Kéy", "Key ", "Ke\u0301y"];
        var ids = new List<long>();
        // One at a time (each its own batch) and then all at once (one batch): both ways every variant is its own row.
        foreach (string v in variants) ids.Add(await SendOk(alice, b, "one " + v, v));
        var together = await Task.WhenAll(variants.Select(v => Send(alice, b, "two " + v, v + "/2"))).WaitAsync(TestContext.Current.CancellationToken);
        Assert.All(together, r => Assert.Equal(ErrorCodes.Ok, r.Code));
        Assert.All(together, r => Assert.Equal("sent", r.Message));
        ids.AddRange(together.Select(r => r.Data!.Value.GetProperty("message_id").GetInt64()));
        Assert.Equal(ids.Count, ids.Distinct().Count());

        // The exact same client_msg_id is still a retry: the first message's id, nothing stored or pushed again.
        Assert.Equal(ids[0], await SendOk(alice, b, "one Key", "Key"));
        Assert.Equal(ids[4], await SendOk(alice, b, "one Key ", "Key "));

        var history = await Ok(bob.RequestAsync("get_chat_history", w => { w.WriteNumber("chat_user_id", a); w.WriteNumber("limit", 100); }));
        Assert.Equal(ids.Order().Reverse().ToArray(), Ids(history.GetProperty("messages")));
        foreach (long id in ids) Assert.Equal(id, (await Push(bob, "message")).Data!.Value.GetProperty("message_id").GetInt64());
        await NoPush(bob, "message");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_send_whose_message_id_is_already_stored_is_never_answered_sent()
    {
        await using var h = await ChatHarness.StartAsync(messageClock: new FrozenClock(DateTimeOffset.UtcNow));
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var alice = await h.LoginAsync(aName);
        var bob = await h.LoginAsync(bName);
        long probe = await SendOk(alice, b, "probe");
        Assert.Equal(probe, (await Push(bob, "message")).Data!.Value.GetProperty("message_id").GetInt64());
        // The clock stands still, so the next ids are probe+1, +2, +3 (the sequence is far from its 256 limit).
        Assert.True((probe & 0xFF) < 250);
        // Rows that already hold the next two ids, as a run whose clock was ahead would have left them (same sender
        // and receiver, so only the content tells them apart).
        await InsertAsync(h.Data, probe + 1, a, b, null, "stored before", TestContext.Current.CancellationToken);
        await InsertAsync(h.Data, probe + 2, a, b, "other", "stored before too", TestContext.Current.CancellationToken);

        var noClientId = await Send(alice, b, "lost without a client id");
        var withClientId = await Send(alice, b, "lost with a client id", "x");
        Assert.Equal(ErrorCodes.Internal, noClientId.Code);
        Assert.Equal(ErrorCodes.Internal, withClientId.Code);
        // The retry gets a fresh id and is stored.
        long retried = await SendOk(alice, b, "lost with a client id", "x");
        Assert.Equal(probe + 3, retried);

        // Bob was pushed nothing of the two that failed: the retry is his next message.
        Assert.Equal(retried, (await Push(bob, "message")).Data!.Value.GetProperty("message_id").GetInt64());
        var history = await Ok(bob.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", a)));
        var contents = history.GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("message_id").GetInt64(), m.GetProperty("content").GetString()!)).ToArray();
        Assert.Equal(new[] { (retried, "lost with a client id"), (probe + 2, "stored before too"), (probe + 1, "stored before"), (probe, "probe") }, contents);
    }

    [Fact(Timeout = 120_000)] // starts qkchatd as a process (up to 30 s on a loaded machine)
    public async Task A_server_whose_clock_is_behind_the_stored_ids_mints_larger_ones_and_stores_every_send()
    {
        await using var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(CancellationToken.None);
        var (a, aName) = await CreateUserAsync(db.DataSource);
        var (b, _) = await CreateUserAsync(db.DataSource);
        await db.ExecuteAsync($"INSERT INTO friendships VALUES ({a}, {b}, 0), ({b}, {a}, 0)");
        // An earlier run's clock was a day ahead (or this one's stepped back a day across the restart).
        long ahead = (DateTimeOffset.UtcNow.AddDays(1) - MessageIds.Epoch).Ticks / TimeSpan.TicksPerMillisecond << 12;
        await InsertAsync(db.DataSource, ahead, a, b, "ahead", "from a clock a day ahead", TestContext.Current.CancellationToken);

        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(ServerProcess.StackEnvironment(db.Name, port));
        await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
        await using var alice = await ChatClient.ConnectAsync("127.0.0.1", port, new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });
        await Ok(AccountsHarness.Login(alice, aName, Password, "phone"));
        long first = await SendOk(alice, b, "after the restart", "r1");
        long second = await SendOk(alice, b, "after the restart, no client id");
        Assert.True(first > ahead, $"{first} is not above the stored {ahead}");
        Assert.True(second > first);

        var history = await Ok(alice.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", b)));
        Assert.Equal(new[] { second, first, ahead }, Ids(history.GetProperty("messages")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Migration_0007_makes_client_msg_id_binary_without_padding_and_can_run_again()
    {
        await using var db = await TempDatabase.CreateAsync();
        await new Migrator(db.DataSource, Migration.Embedded(), NullLogger.Instance).MigrateAsync(TestContext.Current.CancellationToken);
        // A migration cut off halfway runs again whole (docs/storage.md): this one must not fail the second time.
        await db.ExecuteAsync(Migration.Embedded().Single(m => m.Version == 7).Sql);
        Assert.Equal(1, await db.ScalarAsync(
            $"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{db.Name}' AND TABLE_NAME = 'messages' " +
            "AND COLUMN_NAME = 'client_msg_id' AND COLLATION_NAME = 'utf8mb4_nopad_bin' AND IS_NULLABLE = 'YES'"));
    }

    private static async Task InsertAsync(MySqlDataSource data, long id, uint sender, uint receiver, string? clientMsgId, string content,
        CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var insert = new MySqlCommand(
            "INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, content, created_at) " +
            "VALUES (@i, @s, @r, @lo, @hi, @c, @b, @t)", connection);
        insert.Parameters.AddWithValue("@i", id);
        insert.Parameters.AddWithValue("@s", sender);
        insert.Parameters.AddWithValue("@r", receiver);
        insert.Parameters.AddWithValue("@lo", Math.Min(sender, receiver));
        insert.Parameters.AddWithValue("@hi", Math.Max(sender, receiver));
        insert.Parameters.AddWithValue("@c", clientMsgId);
        insert.Parameters.AddWithValue("@b", content);
        insert.Parameters.AddWithValue("@t", MessageIds.TimestampOf(id));
        await insert.ExecuteNonQueryAsync(ct);
    }

    private static async Task<(uint, string)> CreateUserAsync(MySqlDataSource data)
    {
        string name = AccountsHarness.UniqueName();
        string hash = new Argon2idPasswordHasher(8 * 1024, 1).Hash(Password);
        var (_, user) = await new MySqlUserStore(data).CreateAsync(name, name + "@example.org", hash, CancellationToken.None);
        return (user!.UserId, name);
    }
}
