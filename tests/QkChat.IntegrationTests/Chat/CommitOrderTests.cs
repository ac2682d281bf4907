using MySqlConnector;
using QkChat.Core.Messaging;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Issue 22 point 3: several message batches are stored at once (message.writers), so a later batch can commit
/// before an earlier one. A client's catch-up cursor is the largest message id it has seen (sync_messages returns
/// what is above it), so it must never see a message while an earlier message of its own is still to come: it would
/// skip that one forever. The earlier batch is held here by a row lock the test takes on its client_msg_id key, so
/// the later batch commits first, for certain, and the client syncs between the two commits.
/// </summary>
public sealed class CommitOrderTests
{
    [Fact(Timeout = 240_000)] // two logins, a held lock, two waits of up to 60 s and a few round trips on a loaded 2-core box
    public async Task A_sync_between_two_out_of_order_commits_skips_no_message()
    {
        // The held batch's INSERT waits for the test's lock longer than MySqlConnector's default 30 s command timeout
        // may last on a loaded box: the features get a data source with a longer one (InnoDB's own lock wait is 50 s).
        await using var db = await TempDatabase.CreateAsync();
        await using var patient = new MySqlDataSource(new MySqlConnectionStringBuilder(TestStack.ConnectionString(db.Name)) { DefaultCommandTimeout = 120 }.ConnectionString);
        await using var chat = await StartAsync(new MessagingOptions { Writers = 2 }, chatDb: patient);
        var x = await chat.CreateUserAsync();
        var y = await chat.CreateUserAsync();
        // Bob's id above alice's: the held key (a, "held") has InnoDB's waiting next-key lock on it, which covers the gap
        // below it in the unique key, so bob's (b, NULL) entry must sort above it or his batch waits too (and alice's
        // INSERT then fails after innodb_lock_wait_timeout, which a first version of this test ran into when b < a).
        var ((a, aName), (b, bName)) = x.Id < y.Id ? (x, y) : (y, x);
        var (u, uName) = await chat.CreateUserAsync();
        await chat.MakeFriendsAsync(a, u);
        await chat.MakeFriendsAsync(b, u);
        var alice = await chat.LoginAsync(aName);
        var bob = await chat.LoginAsync(bName);
        var phone = await chat.LoginAsync(uName);

        // The test's uncommitted row holds the unique key (a, "held"): the server's INSERT of alice's message with that
        // client_msg_id waits for this transaction, and with it alice's whole batch.
        await using var holder = await chat.Data.OpenConnectionAsync();
        var hold = await holder.BeginTransactionAsync();
        await using (var insert = new MySqlCommand(
            "INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, content, created_at) " +
            "VALUES (1, @a, @u, LEAST(@a, @u), GREATEST(@a, @u), 'held', 'placeholder', 0)", holder, hold))
        {
            insert.Parameters.AddWithValue("@a", a);
            insert.Parameters.AddWithValue("@u", u);
            await insert.ExecuteNonQueryAsync();
        }

        // Both answers wait for the held lock, polls and a sync on a loaded box: more than the client's default 30 s.
        var first = alice.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", u);
            w.WriteString("content", "first");
            w.WriteString("type", "text");
            w.WriteString("client_msg_id", "held");
        }, SendPatience);
        await Wait.UntilAsync(() => CountAsync(chat, "SELECT COUNT(*) FROM information_schema.PROCESSLIST " +
            "WHERE DB = DATABASE() AND INFO LIKE 'INSERT IGNORE INTO messages%'"), "alice's batch to wait for the held key", TimeSpan.FromSeconds(60));

        // Bob's message is minted after alice's and goes in the next batch, which nothing holds: it commits first.
        var second = bob.RequestAsync("send_message", w =>
        {
            w.WriteNumber("receiver_id", u);
            w.WriteString("content", "second");
            w.WriteString("type", "text");
        }, SendPatience);
        await Wait.UntilAsync(() => CountAsync(chat, $"SELECT COUNT(*) FROM messages WHERE sender_id = {b}"),
            "bob's batch to commit", TimeSpan.FromSeconds(60));

        // The receiver catches up between the two commits and keeps the largest id it saw as its cursor.
        var page = (await Ok(phone.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", 0)))).GetProperty("messages");
        var seen = new List<long>(Ids(page));
        long cursor = seen.Count == 0 ? 0 : seen.Max();
        // Alice's message was minted first and is not stored yet: anything above it would put the cursor past it.
        Assert.True(seen.Count == 0, $"sync returned {page} while an earlier message was still being stored");

        await hold.RollbackAsync();
        long firstId = (await Ok(first)).GetProperty("message_id").GetInt64();
        long secondId = (await Ok(second)).GetProperty("message_id").GetInt64();
        Assert.True(firstId < secondId, $"alice's message ({firstId}) was sent first, so its id is below bob's ({secondId})");

        seen.AddRange(Ids((await Ok(phone.RequestAsync("sync_messages", w => w.WriteNumber("after_message_id", cursor)))).GetProperty("messages")));
        Assert.Contains(firstId, seen);
        Assert.Contains(secondId, seen);

        // The live pushes came in id order too: a push is also a cursor a client may keep.
        long pushed1 = (await Push(phone, "message")).Data!.Value.GetProperty("message_id").GetInt64();
        long pushed2 = (await Push(phone, "message")).Data!.Value.GetProperty("message_id").GetInt64();
        Assert.Equal([firstId, secondId], [pushed1, pushed2]);
    }

    private static readonly TimeSpan SendPatience = TimeSpan.FromSeconds(150);

    private static async Task<bool> CountAsync(ChatHarness chat, string sql)
    {
        await using var connection = await chat.Data.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync()) > 0;
    }
}
