using MySqlConnector;
using QkChat.Client;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Two messages of alice to u committed out of order (issue 22 point 3, as in <see cref="CommitOrderTests"/>): the
/// test holds the unique key (alice, "held") in an uncommitted transaction of its own, so alice's "first" (that
/// client_msg_id) waits in its batch while her "second" (client_msg_id "zz-second", which sorts above the held key and
/// so outside the gap InnoDB's waiting lock covers) is minted later and commits first in another batch.
/// </summary>
internal sealed class OutOfOrderCommit : IAsyncDisposable
{
    // Both answers wait for the held lock, polls and reads on a loaded box: more than the client's default 30 s.
    public static readonly TimeSpan SendPatience = TimeSpan.FromSeconds(150);
    public const string HeldKey = "held";

    // Null when the harness is the caller's (OnAsync).
    private MySqlDataSource? _patient;
    private TempDatabase? _db;
    private MySqlConnection _holder = null!;
    private MySqlTransaction? _hold;

    public ChatHarness Chat { get; private set; } = null!;
    public uint A { get; private set; }
    public uint U { get; private set; }
    public string UName { get; private set; } = "";
    public ChatClient Alice { get; private set; } = null!;
    public Task<Envelope> First { get; private set; } = null!;
    public Task<Envelope> Second { get; private set; } = null!;

    /// <summary>A server with two message writers; alice and u are friends, alice is logged in, u is not.</summary>
    public static async Task<OutOfOrderCommit> StartAsync()
    {
        var o = new OutOfOrderCommit();
        // The held batch's INSERT waits for the test's lock longer than MySqlConnector's default 30 s command timeout
        // may last on a loaded box: a data source with a longer one (InnoDB's own lock wait is 50 s).
        o._db = await TempDatabase.CreateAsync();
        o._patient = new MySqlDataSource(new MySqlConnectionStringBuilder(TestStack.ConnectionString(o._db.Name)) { DefaultCommandTimeout = 120 }.ConnectionString);
        o.Chat = await ChatHarness.StartAsync(new MessagingOptions { Writers = 2 }, chatDb: o._patient);
        await o.AddUsersAsync();
        return o;
    }

    /// <summary>Alice and u on the caller's harness (which the caller disposes): for holds shorter than the 30 s command timeout.</summary>
    public static async Task<OutOfOrderCommit> OnAsync(ChatHarness chat)
    {
        var o = new OutOfOrderCommit { Chat = chat };
        await o.AddUsersAsync();
        return o;
    }

    private async Task AddUsersAsync()
    {
        var (a, aName) = await Chat.CreateUserAsync();
        var (u, uName) = await Chat.CreateUserAsync();
        await Chat.MakeFriendsAsync(a, u);
        (A, U, UName) = (a, u, uName);
        Alice = await Chat.LoginAsync(aName);
    }

    /// <summary>Takes the key (alice, "held") in the test's own uncommitted transaction.</summary>
    public async Task HoldAsync()
    {
        _holder = await Chat.Data.OpenConnectionAsync();
        _hold = await _holder.BeginTransactionAsync();
        await using var insert = new MySqlCommand(
            "INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, content, created_at) " +
            "VALUES (1, @a, @u, LEAST(@a, @u), GREATEST(@a, @u), @k, 'placeholder', 0)", _holder, _hold);
        insert.Parameters.AddWithValue("@a", A);
        insert.Parameters.AddWithValue("@u", U);
        insert.Parameters.AddWithValue("@k", HeldKey);
        await insert.ExecuteNonQueryAsync();
    }

    /// <summary>Sends alice's "first" (held key) and waits until its batch's INSERT waits for the test's lock.</summary>
    public async Task SendHeldFirstAsync()
    {
        First = SendAsync("first", HeldKey);
        await WaitForBlockedInsertAsync();
    }

    public Task WaitForBlockedInsertAsync() =>
        Wait.UntilAsync(() => CountAsync("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'INSERT IGNORE INTO messages%'"),
            "alice's batch to wait for the held key", TimeSpan.FromSeconds(60));

    /// <summary>Holds the key, sends "first" (held) then "second", and waits until "second" has committed.</summary>
    public async Task CommitSecondAheadOfFirstAsync()
    {
        await HoldAsync();
        await SendHeldFirstAsync();
        // Minted after "first" (the device's sends are queued in request order), in the next batch, which nothing holds.
        Second = SendAsync("second", "zz-second");
        await Wait.UntilAsync(() => CountAsync($"SELECT COUNT(*) FROM messages WHERE sender_id = {A} AND client_msg_id = 'zz-second'"),
            "alice's second batch to commit", TimeSpan.FromSeconds(60));
    }

    public Task<Envelope> SendAsync(string content, string clientMsgId) =>
        Alice.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", U);
            w.WriteString("content", content);
            w.WriteString("type", "text");
            w.WriteString("client_msg_id", clientMsgId);
        }, SendPatience);

    /// <summary>Lets the held batch go on (the test's row never existed) and returns both messages' ids.</summary>
    public async Task<(long First, long Second)> ReleaseAsync()
    {
        await ReleaseHoldAsync();
        long first = (await Ok(First)).GetProperty("message_id").GetInt64();
        long second = (await Ok(Second)).GetProperty("message_id").GetInt64();
        return (first, second);
    }

    /// <summary>Rolls the test's row back: the held batch goes on.</summary>
    public Task ReleaseHoldAsync() => _hold!.RollbackAsync();

    public async Task<bool> CountAsync(string sql)
    {
        await using var connection = await Chat.Data.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync()) > 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_hold is not null) await _hold.DisposeAsync();
        if (_holder is not null) await _holder.DisposeAsync();
        if (_db is null) return;
        await Chat.DisposeAsync();
        await _patient!.DisposeAsync();
        await _db.DisposeAsync();
    }
}
