using System.Diagnostics;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>issue 4 §6: with Redis gone, account actions answer UNAVAILABLE quickly and recover by themselves.</summary>
public sealed class BackendOutageTests
{
    private static Process StartRedis(int port)
    {
        var info = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = ChildProcesses.Track(Process.Start(info)!);
        process.BeginOutputReadLine();
        return process;
    }

    private static async Task WaitForPortAsync(int port)
    {
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var probe = await RawClient.ConnectAsync(port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException("redis did not start");
    }

    /// <summary>No restart of ours is needed: the backend's client reconnects by itself and logins succeed again.</summary>
    private static async Task LoginRecoversAsync(QkChat.Client.ChatClient c, string name, string password)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        Envelope again;
        do
        {
            again = await Login(c, name, password);
            if (again.Code == ErrorCodes.Ok) return;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Equal(ErrorCodes.Ok, again.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Redis_down_answers_UNAVAILABLE_quickly_and_recovers_when_it_returns()
    {
        int port = ServerProcess.FreePort();
        var redis = StartRedis(port);
        try
        {
            await WaitForPortAsync(port);
            await using var h = await StartAsync(redisPort: port);
            await using var c = await h.ConnectAsync();
            var (name, email, password) = await h.RegisterAsync(c);

            redis.Kill();
            await redis.WaitForExitAsync();
            // Answered at all is the point: a hang would hit the client's request timeout (30 s) instead. No clock
            // bound here: the server's own backend timeouts decide how fast, and a loaded machine stretches any bound.
            var down = await c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "reset_password"); });
            Assert.Equal(ErrorCodes.Unavailable, down.Code);
            var login = await Login(c, name, password);
            Assert.Equal(ErrorCodes.Unavailable, login.Code);
            await Ok(c.RequestAsync("heartbeat")); // the connection itself is unaffected

            redis = StartRedis(port);
            await WaitForPortAsync(port);
            await LoginRecoversAsync(c, name, password);
        }
        finally
        {
            if (!redis.HasExited) redis.Kill();
            redis.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task MariaDB_down_answers_UNAVAILABLE_quickly_and_recovers_when_it_returns()
    {
        await using var maria = await PrivateMariaDb.StartAsync();
        await using var users = await maria.OpenMigratedAsync();
        await using var h = await StartAsync(userDb: users);
        await using var c = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(c);

        await maria.KillAsync();
        // An answer rather than the client's request timeout (30 s) is the proof that nothing hangs (no clock bound).
        Assert.Equal(ErrorCodes.Unavailable, (await Login(c, name, password)).Code);
        await Ok(c.RequestAsync("heartbeat"));

        await maria.StartServerAsync();
        await LoginRecoversAsync(c, name, password);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_token_resume_reads_no_MariaDB_row_so_it_works_while_MariaDB_is_down()
    {
        await using var maria = await PrivateMariaDb.StartAsync();
        await using var users = await maria.OpenMigratedAsync();
        await using var h = await StartAsync(userDb: users);
        await using var c = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(c);
        string token = Data(await Ok(Login(c, name, password))).GetProperty("token").GetString()!;

        await maria.KillAsync();
        await using var again = await h.ConnectAsync();
        var resume = await Ok(again.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "phone"); }));
        Assert.Equal(name, Data(resume).GetProperty("username").GetString());
    }
}
