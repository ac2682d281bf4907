using System.Diagnostics;
using MySqlConnector;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>issue 5 §6: without MariaDB nothing is acknowledged; without Redis one node keeps chatting.</summary>
public sealed class ChatOutageTests
{
    [Fact(Timeout = 60_000)]
    public async Task MariaDB_down_answers_UNAVAILABLE_and_nothing_unstored_is_acknowledged()
    {
        await using var maria = await PrivateMariaDb.StartAsync();
        await using var data = new MySqlDataSource(maria.ConnectionString);
        await using var h = await ChatHarness.StartAsync(chatDb: data);
        var (a, aName) = await h.CreateUserAsync();
        var (b, bName) = await h.CreateUserAsync();
        await h.MakeFriendsAsync(a, b);
        var sender = await h.LoginAsync(aName);
        var receiver = await h.LoginAsync(bName);
        long before = await SendOk(sender, b, "stored"); // the friend set is cached from here on
        await Push(receiver, "message");

        await maria.KillAsync();
        // An answer rather than the client's request timeout (30 s) proves nothing hangs; no clock bound on a loaded box.
        var response = await Send(sender, b, "not stored", "retry-me");
        Assert.Equal(ErrorCodes.Unavailable, response.Code);
        await NoPush(receiver, "message"); // nothing unstored is delivered either

        await maria.StartServerAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        Envelope retry;
        do
        {
            retry = await Send(sender, b, "not stored", "retry-me");
        }
        while (retry.Code != ErrorCodes.Ok && DateTime.UtcNow < deadline && await Task.Delay(250).ContinueWith(_ => true));
        Assert.Equal(ErrorCodes.Ok, retry.Code);
        var history = await Ok(receiver.RequestAsync("get_chat_history", w => w.WriteNumber("chat_user_id", a)));
        Assert.Equal(2, history.GetProperty("messages").GetArrayLength());
        Assert.Equal(before, Ids(history.GetProperty("messages"))[1]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_busy_connection_pool_answers_SERVER_BUSY_with_a_retry_hint_not_UNAVAILABLE()
    {
        await using var db = await TempDatabase.CreateAsync();
        var settings = QkChat.Server.Storage.Backends.WithPoolSettings(new MySqlConnectionStringBuilder(TestStack.ConnectionString(db.Name)));
        settings.MaximumPoolSize = 2;
        settings.ConnectionTimeout = 1; // the pool wait, so the test does not wait the server's 5 s
        await using var small = new MySqlDataSource(settings.ConnectionString);
        await using var h = await ChatHarness.StartAsync(chatDb: small);
        var (_, name) = await h.CreateUserAsync();
        var client = await h.LoginAsync(name);

        var held = new List<MySqlConnection>();
        try
        {
            // Everything the pool has is taken: the server is overloaded, MariaDB is fine.
            for (int i = 0; i < 2; i++) held.Add(await small.OpenConnectionAsync());
            var busy = await client.RequestAsync("get_friend_list");
            Assert.True(busy.Code == ErrorCodes.ServerBusy, $"{busy.Code}: {busy.Message}");
            Assert.True(busy.Data!.Value.GetProperty("retry_after_ms").GetInt32() > 0);
        }
        finally
        {
            foreach (var connection in held) await connection.DisposeAsync();
        }
        await Ok(client.RequestAsync("get_friend_list"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Redis_down_leaves_logged_in_users_chatting()
    {
        int port = ServerProcess.FreePort();
        using var redis = ChildProcesses.Track(Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!);
        redis.BeginOutputReadLine();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    using var probe = await RawClient.ConnectAsync(port);
                    break;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    await Task.Delay(50);
                }
            }
            await using var h = await ChatHarness.StartAsync(redisPort: port);
            var (a, aName) = await h.CreateUserAsync();
            var (b, bName) = await h.CreateUserAsync();
            await h.MakeFriendsAsync(a, b);
            var sender = await h.LoginAsync(aName);
            var receiver = await h.LoginAsync(bName);
            Assert.Equal("online", (await Push(sender, "presence")).Data!.Value.GetProperty("status").GetString());

            redis.Kill();
            await redis.WaitForExitAsync();
            for (int i = 0; i < 5; i++)
            {
                long id = await SendOk(sender, b, "still here " + i);
                Assert.Equal(id, (await Push(receiver, "message")).Data!.Value.GetProperty("message_id").GetInt64());
                await Ok(receiver.RequestAsync("message_ack", w => { w.WriteStartArray("message_ids"); w.WriteNumberValue(id); w.WriteEndArray(); }));
                await Push(sender, "message_status");
            }
            await Ok(receiver.RequestAsync("status_update", w => w.WriteString("status", "busy")));
            Assert.Equal("busy", (await Push(sender, "presence")).Data!.Value.GetProperty("status").GetString());
        }
        finally
        {
            if (!redis.HasExited) redis.Kill();
        }
    }
}
