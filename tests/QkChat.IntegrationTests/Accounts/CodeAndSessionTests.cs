using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

public sealed class CodeAndSessionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static Task<QkChat.Protocol.Envelope> SendCode(QkChat.Client.ChatClient c, string email, string type = "register") =>
        c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", type); });

    private static Task<QkChat.Protocol.Envelope> Register(QkChat.Client.ChatClient c, string email, string code) =>
        c.RequestAsync("register", w =>
        {
            w.WriteString("username", UniqueName());
            w.WriteString("email", email);
            w.WriteString("password", "a good password");
            w.WriteString("verification_code", code);
        });

    [Fact(Timeout = 60_000)]
    public async Task A_second_code_within_the_cooldown_is_rate_limited_for_the_same_address_ignoring_case()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        string email = UniqueName() + "@Example.org";
        var first = await Ok(SendCode(c, email));
        Assert.Equal(300, Data(first).GetProperty("expires_in_s").GetInt32());
        Assert.Equal(60, Data(first).GetProperty("resend_after_s").GetInt32());
        var again = await SendCode(c, email.ToLowerInvariant());
        Assert.Equal(ErrorCodes.RateLimited, again.Code);
        Assert.InRange(Data(again).GetProperty("retry_after_ms").GetInt32(), 1, 60_000);
        await Ok(SendCode(c, email, "reset_password")); // another purpose has its own cooldown
    }

    [Fact(Timeout = 60_000)]
    public async Task Wrong_codes_are_refused_and_the_sixth_try_finds_the_code_void()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        string email = UniqueName() + "@example.org";
        Assert.Equal(ErrorCodes.InvalidCode, (await Register(c, email, "123456")).Code); // never sent
        await Ok(SendCode(c, email));
        string code = h.Mailer.CodeFor(email);
        string wrong = code == "000000" ? "111111" : "000000";
        for (int i = 0; i < 5; i++) Assert.Equal(ErrorCodes.InvalidCode, (await Register(c, email, wrong)).Code);
        var sixth = await Register(c, email, code);
        Assert.Equal(ErrorCodes.InvalidCode, sixth.Code);
        Assert.Contains("too many wrong tries", sixth.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_used_code_cannot_be_used_again()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (_, email, _) = await h.RegisterAsync(c);
        await Ok(SendCode(c, email, "reset_password"));
        string code = h.Mailer.CodeFor(email);
        Task<QkChat.Protocol.Envelope> Reset(string password) => c.RequestAsync("reset_password", w =>
        {
            w.WriteString("email", email);
            w.WriteString("verification_code", code);
            w.WriteString("new_password", password);
        });
        await Ok(Reset("first new password"));
        var reused = await Reset("second new password");
        Assert.Equal(ErrorCodes.InvalidCode, reused.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Changing_the_password_revokes_and_kicks_the_other_devices_only()
    {
        await using var h = await StartAsync();
        await using var phone = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(phone);
        await Ok(Login(phone, name, password, "phone"));
        await using var laptop = await h.ConnectAsync();
        string laptopToken = Data(await Ok(Login(laptop, name, password, "laptop"))).GetProperty("token").GetString()!;

        var wrongOld = await phone.RequestAsync("change_password", w => { w.WriteString("old_password", "not it at all"); w.WriteString("new_password", "brand new secret"); });
        Assert.Equal(ErrorCodes.InvalidCredentials, wrongOld.Code);
        await Ok(phone.RequestAsync("change_password", w => { w.WriteString("old_password", password); w.WriteString("new_password", "brand new secret"); }));

        var kicked = await laptop.WaitForPushAsync("kicked", Wait);
        Assert.Equal("revoked", kicked.Data!.Value.GetProperty("reason").GetString());
        await laptop.Closed.WaitAsync(Wait, TestContext.Current.CancellationToken);
        await Ok(phone.RequestAsync("heartbeat")); // the caller's own connection stays

        await using var again = await h.ConnectAsync();
        var stale = await again.RequestAsync("login_token", w => { w.WriteString("token", laptopToken); w.WriteString("client_id", "laptop"); });
        Assert.Equal(ErrorCodes.TokenInvalid, stale.Code);
        Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(again, name, password, "laptop")).Code);
        await Ok(Login(again, name, "brand new secret", "laptop"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Resetting_the_password_revokes_every_device()
    {
        await using var h = await StartAsync();
        await using var phone = await h.ConnectAsync();
        var (name, email, password) = await h.RegisterAsync(phone);
        await Ok(Login(phone, name, password, "phone"));

        await using var anon = await h.ConnectAsync();
        await Ok(SendCode(anon, email, "reset_password"));
        await Ok(anon.RequestAsync("reset_password", w =>
        {
            w.WriteString("email", email);
            w.WriteString("verification_code", h.Mailer.CodeFor(email));
            w.WriteString("new_password", "reset to this one");
        }));
        Assert.Equal("revoked", (await phone.WaitForPushAsync("kicked", Wait)).Data!.Value.GetProperty("reason").GetString());
        await Ok(Login(anon, name, "reset to this one", "tablet"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_reset_code_for_an_unknown_address_is_answered_alike_but_not_sent()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        string nobody = UniqueName() + "@example.org";
        await Ok(SendCode(c, nobody, "reset_password"));
        Assert.False(h.Mailer.Has(nobody));
    }

    [Fact(Timeout = 60_000)]
    public async Task Repeated_failed_logins_are_rate_limited_per_account()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(c);
        for (int i = 0; i < 10; i++) Assert.Equal(ErrorCodes.InvalidCredentials, (await Login(c, name, "wrong password!")).Code);
        await using var other = await h.ConnectAsync(); // another address: the account limit still holds
        var limited = await Login(other, name, password);
        Assert.Equal(ErrorCodes.RateLimited, limited.Code);
        Assert.True(Data(limited).GetProperty("retry_after_ms").GetInt32() > 0);
    }
}
