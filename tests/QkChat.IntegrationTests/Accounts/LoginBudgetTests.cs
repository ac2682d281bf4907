using System.Net;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>
/// The failed-login budget (issue 16 points 3 and 4): an attempt is reserved atomically before the password is
/// hashed, per account by user id (its username and its e-mail share one budget) and per client address, and
/// change_password's old_password guesses draw on the same budget. The harness keeps the defaults: 10 per account,
/// 50 per address, in 15 minutes.
/// </summary>
public sealed class LoginBudgetTests
{
    private const int PerAccount = 10;

    private static Task<Envelope> ChangePassword(ChatClient c, string oldPassword, string newPassword) =>
        c.RequestAsync("change_password", w => { w.WriteString("old_password", oldPassword); w.WriteString("new_password", newPassword); });

    [Fact(Timeout = 180_000)] // 80 connections and 80 logins at once on a loaded 2-core box
    public async Task Eighty_parallel_wrong_logins_from_eighty_addresses_evaluate_no_more_than_the_account_limit()
    {
        await using var h = await StartAsync();
        string name;
        await using (var registrar = await h.ConnectAsync())
            (name, _, _) = await h.RegisterAsync(registrar);

        // 80 distinct addresses 127.a.b.1 to 127.a.b.80: the per-address budget plays no part.
        byte a = (byte)Random.Shared.Next(1, 255), b = (byte)Random.Shared.Next(0, 256);
        var clients = new List<ChatClient>();
        try
        {
            for (int i = 1; i <= 80; i++) clients.Add(await h.ConnectAsync(new IPAddress([127, a, b, (byte)i])));
            using var go = new ManualResetEventSlim(false);
            var attempts = clients.Select(c => Task.Run(async () =>
            {
                go.Wait(TestContext.Current.CancellationToken);
                return await Login(c, name, "a wrong password!");
            })).ToList();
            go.Set();
            var codes = (await Task.WhenAll(attempts)).Select(r => r.Code).ToList();

            int evaluated = codes.Count(c => c == ErrorCodes.InvalidCredentials);
            string summary = string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Key}: {g.Count()}"));
            TestContext.Current.TestOutputHelper?.WriteLine($"80 parallel wrong logins: {summary}");
            Assert.True(evaluated <= PerAccount, $"{evaluated} of 80 parallel guesses were evaluated, limit {PerAccount} ({summary})");
            Assert.True(codes.All(c => c is ErrorCodes.InvalidCredentials or ErrorCodes.RateLimited), summary);
            Assert.Equal(80 - evaluated, codes.Count(c => c == ErrorCodes.RateLimited));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Fact(Timeout = 180_000)] // 60 connections and 60 logins at once on a loaded 2-core box
    public async Task Parallel_wrong_logins_from_one_address_evaluate_no_more_than_the_address_limit()
    {
        const int PerIp = 50;
        await using var h = await StartAsync();
        var from = RandomLoopback();
        var clients = new List<ChatClient>();
        try
        {
            // Unknown names, one each: only the address budget applies (unknown users are evaluated alike).
            for (int i = 0; i < 60; i++) clients.Add(await h.ConnectAsync(from));
            using var go = new ManualResetEventSlim(false);
            var attempts = clients.Select(c => Task.Run(async () =>
            {
                go.Wait(TestContext.Current.CancellationToken);
                return await Login(c, UniqueName(), "a wrong password!");
            })).ToList();
            go.Set();
            var codes = (await Task.WhenAll(attempts)).Select(r => r.Code).ToList();
            int evaluated = codes.Count(c => c == ErrorCodes.InvalidCredentials);
            string summary = string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Key}: {g.Count()}"));
            TestContext.Current.TestOutputHelper?.WriteLine($"60 parallel wrong logins from one address: {summary}");
            Assert.True(evaluated <= PerIp, $"{evaluated} of 60 parallel guesses from one address were evaluated, limit {PerIp} ({summary})");
            Assert.Equal(60 - evaluated, codes.Count(c => c == ErrorCodes.RateLimited));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_username_and_the_email_of_one_account_share_one_budget()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, email, password) = await h.RegisterAsync(c);
        for (int i = 0; i < PerAccount / 2; i++) Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(c, name, "wrong password!")).Code);
        await using var other = await h.ConnectAsync();
        for (int i = 0; i < PerAccount / 2; i++) Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(other, email.ToUpperInvariant(), "wrong password!")).Code);
        await using var third = await h.ConnectAsync();
        await Ok(third.RequestAsync("heartbeat", ct: ct));
        Assert.Equal(ErrorCodes.RateLimited, (await Login(third, email, "wrong password!")).Code);
        Assert.Equal(ErrorCodes.RateLimited, (await Login(third, name.ToUpperInvariant(), password)).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Wrong_old_passwords_in_change_password_draw_on_the_login_budget()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var phone = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(phone);
        await Ok(Login(phone, name, password, "phone"));
        var codes = new List<string>();
        for (int i = 0; i < 40; i++) codes.Add((await ChangePassword(phone, "not the old one", "a new password")).Code!);
        Assert.Equal(PerAccount, codes.Count(c => c == ErrorCodes.InvalidCredentials));
        Assert.Equal(40 - PerAccount, codes.Count(c => c == ErrorCodes.RateLimited));
        Assert.All(codes.Take(PerAccount), c => Assert.Equal(ErrorCodes.InvalidCredentials, c));

        // The budget is the account's: the right old password now waits too, and so does a login elsewhere.
        var limited = await ChangePassword(phone, password, "a new password");
        Assert.Equal(ErrorCodes.RateLimited, limited.Code);
        Assert.True(Data(limited).GetProperty("retry_after_ms").GetInt32() > 0);
        await using var laptop = await h.ConnectAsync();
        Assert.Equal(ErrorCodes.RateLimited, (await Login(laptop, name, password, "laptop")).Code);
        await Ok(phone.RequestAsync("heartbeat", ct: ct)); // the session itself is untouched
    }

    [Fact(Timeout = 60_000)]
    public async Task A_successful_login_gives_its_reservation_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(c);
        // Many more right passwords than the limit: each success returns its reservation and clears the account's failures.
        for (int i = 0; i < PerAccount + 5; i++)
        {
            ct.ThrowIfCancellationRequested();
            await using var device = await h.ConnectAsync();
            await Ok(Login(device, name, password, "device-" + i));
        }
        for (int i = 0; i < PerAccount - 1; i++) Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(c, name, "wrong password!")).Code);
        await Ok(Login(c, name, password, "phone")); // the tenth try is right: it is evaluated and succeeds
    }
}
