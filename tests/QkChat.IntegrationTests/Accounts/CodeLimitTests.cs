using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

public sealed class CodeLimitTests
{
    [Fact(Timeout = 60_000)]
    public async Task An_expired_code_answers_CODE_EXPIRED()
    {
        await using var h = await StartAsync(codeValidity: TimeSpan.FromSeconds(1));
        await using var c = await h.ConnectAsync();
        string email = UniqueName() + "@example.org";
        var sent = await Ok(c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "register"); }));
        Assert.Equal(1, Data(sent).GetProperty("expires_in_s").GetInt32());
        await Task.Delay(1600);
        var late = await c.RequestAsync("register", w =>
        {
            w.WriteString("username", UniqueName());
            w.WriteString("email", email);
            w.WriteString("password", "a good password");
            w.WriteString("verification_code", h.Mailer.CodeFor(email));
        });
        Assert.Equal(ErrorCodes.CodeExpired, late.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task One_client_address_is_capped_per_hour_across_addresses_and_types()
    {
        await using var h = await StartAsync();
        var from = RandomLoopback();
        await using var c = await h.ConnectAsync(from);
        for (int i = 0; i < 20; i++)
        {
            string type = i % 2 == 0 ? "register" : "reset_password";
            await Ok(c.RequestAsync("send_verification_code", w => { w.WriteString("email", UniqueName() + "@example.org"); w.WriteString("type", type); }));
        }
        var capped = await c.RequestAsync("send_verification_code", w => { w.WriteString("email", UniqueName() + "@example.org"); w.WriteString("type", "register"); });
        Assert.Equal(ErrorCodes.RateLimited, capped.Code);
        Assert.True(Data(capped).GetProperty("retry_after_ms").GetInt32() > 60_000); // the hour window, not the cooldown

        await using var elsewhere = await h.ConnectAsync(); // another address is not affected
        await Ok(elsewhere.RequestAsync("send_verification_code", w => { w.WriteString("email", UniqueName() + "@example.org"); w.WriteString("type", "register"); }));
    }
}
