using System.Net;
using System.Text.Json;
using QkChat.Client;
using QkChat.Server.Accounts;
using QkChat.Protocol;
using QkChat.Server.Audit;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Audit;

/// <summary>Each security event class is stored exactly once, with the right fields, after the action that causes it.</summary>
public sealed class AuditEventTests
{
    internal static Task<Envelope> LoginOn(ChatClient c, string login, string password, string clientId, string? device = null) =>
        c.RequestAsync("login", w =>
        {
            w.WriteString("username", login);
            w.WriteString("password", password);
            w.WriteString("client_id", clientId);
            if (device is not null) w.WriteString("device", device);
        });

    internal static Task<Envelope> SendCode(ChatClient c, string email, string type) =>
        c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", type); });

    /// <summary>Registers through the protocol from <paramref name="c"/>; returns (id, name, email, password).</summary>
    internal static async Task<(uint Id, string Name, string Email, string Password)> RegisterAsync(AuditHarness h, ChatClient c)
    {
        string name = UniqueName(), email = name + "@example.org", password = "correct horse " + name;
        await Ok(SendCode(c, email, "register"));
        var data = Data(await Ok(c.RequestAsync("register", w =>
        {
            w.WriteString("username", name);
            w.WriteString("email", email);
            w.WriteString("password", password);
            w.WriteString("verification_code", h.Mailer.CodeFor(email));
        })));
        return (data.GetProperty("user_id").GetUInt32(), name, email, password);
    }

    private static AuditEntry One(IEnumerable<AuditEntry> rows, string e)
    {
        var matching = rows.Where(r => r.Event == e).ToList();
        Assert.True(matching.Count == 1, $"{matching.Count} '{e}' rows: {string.Join(", ", rows.Select(r => r.Event))}");
        return matching[0];
    }

    [Fact(Timeout = 60_000)]
    public async Task Logins_failures_resumes_kicks_and_logouts_are_recorded_once_and_the_password_never()
    {
        await using var h = await AuditHarness.StartAsync();
        IPAddress phoneIp = RandomLoopback(), otherIp = RandomLoopback(), strangerIp = RandomLoopback();
        await using var phone = await h.ConnectAsync(phoneIp);
        var (id, name, _, password) = await RegisterAsync(h, phone);
        string wrong = "Wrong-" + Guid.NewGuid().ToString("N");
        Assert.Equal(ErrorCodes.InvalidCredentials, (await LoginOn(phone, name, wrong, "phone", "Pixel 8")).Code);
        string token = Data(await Ok(LoginOn(phone, name, password, "phone", "Pixel 8"))).GetProperty("token").GetString()!;

        // The same device resumes elsewhere: the phone's connection is pushed out (kicked, same_device).
        await using var other = await h.ConnectAsync(otherIp);
        await Ok(other.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "phone"); }));
        await phone.WaitForPushAsync("kicked", AuditHarness.Patience);
        await Ok(other.RequestAsync("logout"));
        await using var stranger = await h.ConnectAsync(strangerIp);
        Assert.Equal(ErrorCodes.TokenInvalid,
            (await stranger.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "phone"); })).Code);
        Assert.Equal(ErrorCodes.InvalidCredentials, (await LoginOn(stranger, "nobody_" + UniqueName(), wrong, "x")).Code);

        var mine = await h.RowsAsync(userId: id);
        Assert.Equal(["login_failed", "login", "token_resume", "kicked", "logout"], mine.Select(r => r.Event));
        var failed = One(mine, "login_failed");
        Assert.Equal((false, "wrong_password", "phone", "Pixel 8", phoneIp.ToString()), (failed.Ok, failed.Detail, failed.ClientId, failed.Device, failed.Ip));
        var login = One(mine, "login");
        Assert.Equal((true, "phone", "Pixel 8", phoneIp.ToString()), (login.Ok, login.ClientId, login.Device, login.Ip));
        var resume = One(mine, "token_resume");
        Assert.Equal((true, "phone", otherIp.ToString()), (resume.Ok, resume.ClientId, resume.Ip));
        var kicked = One(mine, "kicked");
        Assert.Equal(("same_device", "phone", phoneIp.ToString()), (kicked.Detail, kicked.ClientId, kicked.Ip));
        var logout = One(mine, "logout");
        Assert.Equal(("phone", otherIp.ToString()), (logout.ClientId, logout.Ip));

        var strangers = await h.RowsAsync(ip: strangerIp);
        Assert.Equal(["login_failed", "login_failed"], strangers.Select(r => r.Event));
        Assert.All(strangers, r => Assert.Null(r.UserId));
        Assert.Equal(["token_invalid", "unknown_user"], strangers.Select(r => r.Detail));
        var code = One(await h.RowsAsync(ip: phoneIp), "code_sent");
        Assert.Equal((true, "register", (uint?)null), (code.Ok, code.Detail, code.UserId));

        // Neither the password tried, nor the right one, nor the name typed for a missing user is anywhere.
        string table = await h.WholeTableAsync();
        Assert.DoesNotContain(wrong, table);
        Assert.DoesNotContain(password, table);
        Assert.DoesNotContain("nobody_", table);
        Assert.DoesNotContain(wrong, h.Log.All);
        Assert.DoesNotContain(password, h.Log.All);
    }

    [Fact(Timeout = 60_000)]
    public async Task Password_changes_resets_codes_and_revocations_are_recorded_once()
    {
        await using var h = await AuditHarness.StartAsync();
        IPAddress phoneIp = RandomLoopback(), laptopIp = RandomLoopback(), resetIp = RandomLoopback();
        await using var phone = await h.ConnectAsync(phoneIp);
        var (id, name, email, password) = await RegisterAsync(h, phone);
        await Ok(LoginOn(phone, name, password, "phone", "Pixel 8"));
        await using var laptop = await h.ConnectAsync(laptopIp);
        await Ok(LoginOn(laptop, name, password, "laptop", "ThinkPad"));

        await Ok(phone.RequestAsync("revoke_session", w => w.WriteString("client_id", "laptop")));
        Assert.Equal(ErrorCodes.InvalidCredentials, (await phone.RequestAsync("change_password", w =>
        {
            w.WriteString("old_password", "not the password");
            w.WriteString("new_password", "a brand new password");
        })).Code);
        await Ok(phone.RequestAsync("change_password", w =>
        {
            w.WriteString("old_password", password);
            w.WriteString("new_password", "a brand new password");
        }));

        await using var reset = await h.ConnectAsync(resetIp);
        await Ok(SendCode(reset, email, "reset_password"));
        Assert.Equal(ErrorCodes.RateLimited, (await SendCode(reset, email, "reset_password")).Code); // 60 s cooldown
        await Ok(reset.RequestAsync("reset_password", w =>
        {
            w.WriteString("email", email);
            w.WriteString("verification_code", h.Mailer.CodeFor(email));
            w.WriteString("new_password", "another new password");
        }));

        var mine = await h.RowsAsync(userId: id);
        var revoked = One(mine, "session_revoked");
        Assert.Equal(("laptop", "ThinkPad", phoneIp.ToString(), "other", true),
            (revoked.ClientId, revoked.Device, revoked.Ip, revoked.Detail, revoked.Ok));
        var changes = mine.Where(r => r.Event == "password_changed").ToList();
        Assert.Equal([false, true], changes.Select(r => r.Ok));
        Assert.Equal(["wrong_password", null], changes.Select(r => r.Detail));
        Assert.All(changes, r => Assert.Equal(("phone", "Pixel 8", phoneIp.ToString()), (r.ClientId, r.Device, r.Ip)));
        var sent = One(mine, "code_sent");
        Assert.Equal(("reset_password", resetIp.ToString()), (sent.Detail, sent.Ip));
        var resetRow = One(mine, "password_reset");
        Assert.Equal((true, resetIp.ToString()), (resetRow.Ok, resetRow.Ip));

        var limited = One(await h.RowsAsync(ip: resetIp), "rate_limited");
        Assert.Equal(("code_reset_password", false, (uint?)null), (limited.Detail, limited.Ok, limited.UserId));
        Assert.DoesNotContain(h.Mailer.CodeFor(email), await h.WholeTableAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_code_voided_by_wrong_tries_is_recorded_once()
    {
        await using var h = await AuditHarness.StartAsync();
        IPAddress ip = RandomLoopback();
        await using var c = await h.ConnectAsync(ip);
        var (id, _, email, _) = await RegisterAsync(h, c);
        await Ok(SendCode(c, email, "reset_password"));
        string code = h.Mailer.CodeFor(email), wrong = code == "000000" ? "111111" : "000000";
        for (int i = 0; i < 7; i++)
            Assert.Equal(ErrorCodes.InvalidCode, (await c.RequestAsync("reset_password", w =>
            {
                w.WriteString("email", email);
                w.WriteString("verification_code", wrong);
                w.WriteString("new_password", "whatever password");
            })).Code);
        var voided = One(await h.RowsAsync(userId: id), "code_voided");
        Assert.Equal((ip.ToString(), "reset_password", false), (voided.Ip, voided.Detail, voided.Ok));
    }

    [Fact(Timeout = 60_000)]
    public async Task Account_and_address_limit_trips_are_recorded_once_each()
    {
        await using var h = await AuditHarness.StartAsync(new LoginLimits { PerAccount = 3, PerIp = 5 });
        IPAddress ip = RandomLoopback(), crowd = RandomLoopback();
        await using var c = await h.ConnectAsync(ip);
        var (id, name, _, _) = await RegisterAsync(h, c);
        for (int i = 0; i < 3; i++) Assert.Equal(ErrorCodes.InvalidCredentials, (await LoginOn(c, name, "wrong password!", "phone")).Code);
        Assert.Equal(ErrorCodes.RateLimited, (await LoginOn(c, name, "wrong password!", "phone")).Code);
        var trip = One(await h.RowsAsync(userId: id), "rate_limited");
        Assert.Equal(("login_account", false, ip.ToString()), (trip.Detail, trip.Ok, trip.Ip));
        Assert.Equal(3, (await h.RowsAsync(userId: id)).Count(r => r.Event == "login_failed"));

        // Five failures from one address, spread over accounts below their own limit, trip the address limit.
        await using var many = await h.ConnectAsync(crowd);
        foreach (string login in new[] { "a", "a", "b", "b", "c" }.Select(s => s + "_" + name))
            Assert.Equal(ErrorCodes.InvalidCredentials, (await LoginOn(many, login, "wrong password!", "x")).Code);
        Assert.Equal(ErrorCodes.RateLimited, (await LoginOn(many, "d_" + name, "wrong password!", "x")).Code);
        var ipTrip = One(await h.RowsAsync(ip: crowd), "rate_limited");
        Assert.Equal(("login_ip", (uint?)null), (ipTrip.Detail, ipTrip.UserId));
    }

    [Fact(Timeout = 60_000)]
    public async Task Oversize_empty_and_garbage_frames_and_slow_consumers_are_recorded_as_closes()
    {
        await using var h = await AuditHarness.StartAsync();
        IPAddress big = RandomLoopback(), empty = RandomLoopback(), garbage = RandomLoopback(), slow = RandomLoopback();
        using (var c = await Infrastructure.RawClient.ConnectAsync(h.Server.Port, big))
        {
            await c.SendAsync([0x01, 0x00, 0x00, 0x00]); // 16 MB declared
            Assert.True(await c.ClosedAsync());
        }
        using (var c = await Infrastructure.RawClient.ConnectAsync(h.Server.Port, empty))
        {
            await c.SendAsync([0, 0, 0, 0]);
            Assert.True(await c.ClosedAsync());
        }
        using (var c = await Infrastructure.RawClient.ConnectAsync(h.Server.Port, garbage))
        {
            for (int i = 0; i < 3; i++) await c.SendAsync(Infrastructure.RawClient.Frame("not json"));
            Assert.True(await c.ClosedAsync());
        }
        using (var sleeper = await Infrastructure.RawClient.ConnectAsync(h.Server.Port, slow))
        {
            sleeper.Socket.ReceiveBufferSize = 4096;
            for (int i = 0; i < 400 && h.Server.ClosedFor(QkChat.Transport.CloseReason.SlowConsumer) == 0; i++)
            {
                try
                {
                    await sleeper.SendJsonAsync("""{"action":"flood"}""");
                }
                catch (System.Net.Sockets.SocketException)
                {
                    break;
                }
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }
            await h.Server.EventuallyAsync(() => h.Server.ClosedFor(QkChat.Transport.CloseReason.SlowConsumer) == 1, "slow consumer closed");
        }

        Assert.Equal("oversize_frame", One(await h.RowsAsync(ip: big), "abuse").Detail);
        Assert.Equal("empty_frame", One(await h.RowsAsync(ip: empty), "abuse").Detail);
        Assert.Equal("bad_frames", One(await h.RowsAsync(ip: garbage), "abuse").Detail);
        var closed = One(await h.RowsAsync(ip: slow), "slow_consumer");
        Assert.Equal((false, (uint?)null), (closed.Ok, closed.UserId));
    }

    internal static JsonElement[] Events(JsonElement data) => data.GetProperty("events").EnumerateArray().ToArray();
}
