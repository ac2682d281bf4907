using System.Collections.Concurrent;
using MySqlConnector;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>issue 5 §6: qkchatd killed with SIGKILL in the middle of a stream of sends loses no acknowledged message.</summary>
public sealed class CrashSafetyTests
{
    private const int SIGKILL = 9;
    private const string Password = "a long enough secret";

    [Fact(Timeout = 60_000)]
    public async Task Every_acknowledged_message_survives_SIGKILL_and_is_delivered_exactly_once()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        var server = ServerProcess.Start(env);
        try
        {
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
            var (a, aName) = await CreateUserAsync(db.DataSource);
            var (b, bName) = await CreateUserAsync(db.DataSource);
            await using (var connection = await db.DataSource.OpenConnectionAsync())
            await using (var friends = new MySqlCommand($"INSERT INTO friendships VALUES ({a}, {b}, 0), ({b}, {a}, 0)", connection))
                await friends.ExecuteNonQueryAsync();

            // The receiver is away: everything it gets comes from storage after the restart.
            await using var sender = await LoginAsync(port, aName);
            var acknowledged = new ConcurrentBag<long>();
            using var stop = new CancellationTokenSource();
            var streams = Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    Envelope response;
                    try
                    {
                        response = await Send(sender, b, $"stream {s} message {i}", $"s{s}-{i}");
                    }
                    catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException or ObjectDisposedException)
                    {
                        return;
                    }
                    if (response.Code == ErrorCodes.Ok) acknowledged.Add(response.Data!.Value.GetProperty("message_id").GetInt64());
                }
            })).ToArray();
            // Generous for a loaded box (400 acknowledgements take a few seconds); streams that all ended early fail here too.
            var ackDeadline = Environment.TickCount64 + 120_000;
            while (acknowledged.Count < 400)
            {
                Assert.True(Environment.TickCount64 < ackDeadline && !streams.All(t => t.IsCompleted),
                    $"only {acknowledged.Count} of 400 messages acknowledged before the kill");
                await Task.Delay(10);
            }
            server.Signal(SIGKILL); // mid-stream: batches are being written and answered
            await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(30));
            await server.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await server.DisposeAsync();

            server = ServerProcess.Start(env);
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
            await using var receiver = await LoginAsync(port, bName);
            var received = new List<long>();
            while (true)
            {
                var batch = (await receiver.WaitForPushAsync("offline_messages", Patience)).Data!.Value;
                long[] ids = Ids(batch.GetProperty("messages"));
                received.AddRange(ids);
                await Ok(receiver.RequestAsync("message_ack", w =>
                {
                    w.WriteStartArray("message_ids");
                    foreach (long id in ids) w.WriteNumberValue(id);
                    w.WriteEndArray();
                }));
                if (!batch.GetProperty("has_more").GetBoolean()) break;
            }

            Assert.Equal(received.Count, received.Distinct().Count()); // exactly once
            Assert.Equal(received.Order(), received); // oldest first
            Assert.Empty(acknowledged.Except(received)); // nothing acknowledged is lost
            Assert.True(received.Count >= acknowledged.Count);
            var sync = await Ok(receiver.RequestAsync("sync_messages", w => { w.WriteNumber("after_message_id", 0); w.WriteNumber("limit", 500); }));
            var stored = Ids(sync.GetProperty("messages")).ToList();
            while (sync.GetProperty("has_more").GetBoolean())
            {
                long after = stored[^1];
                sync = await Ok(receiver.RequestAsync("sync_messages", w => { w.WriteNumber("after_message_id", after); w.WriteNumber("limit", 500); }));
                stored.AddRange(Ids(sync.GetProperty("messages")));
            }
            Assert.Equal(received, stored); // history holds exactly what was delivered
            await using var again = await LoginAsync(port, bName, "tablet");
            await NoPush(again, "offline_messages");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<(uint, string)> CreateUserAsync(MySqlDataSource data)
    {
        string name = AccountsHarness.UniqueName();
        string hash = new Argon2idPasswordHasher(8 * 1024, 1).Hash(Password);
        var (_, user) = await new MySqlUserStore(data).CreateAsync(name, name + "@example.org", hash, CancellationToken.None);
        return (user!.UserId, name);
    }

    private static async Task<ChatClient> LoginAsync(int port, string name, string device = "phone")
    {
        var client = await ChatClient.ConnectAsync("127.0.0.1", port, new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });
        await Ok(AccountsHarness.Login(client, name, Password, device));
        return client;
    }
}
