using QkChat.Client;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>
/// register checks the field rules, then the verification code, and only then whether the name or the address is
/// taken (issue 16 point 5): without a valid code it tells nobody who exists; the rate-limited check_username and
/// check_email are the only way to ask.
/// </summary>
public sealed class RegisterOrderTests
{
    private static Task<Envelope> SendCode(ChatClient c, string email) =>
        c.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "register"); });

    private static Task<Envelope> Register(ChatClient c, string username, string email, string code) =>
        c.RequestAsync("register", w =>
        {
            w.WriteString("username", username);
            w.WriteString("email", email);
            w.WriteString("password", "a good password");
            w.WriteString("verification_code", code);
        });

    [Fact(Timeout = 60_000)]
    public async Task Without_a_valid_code_a_taken_name_or_address_is_not_revealed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        await Ok(c.RequestAsync("heartbeat", ct: ct));
        var (name, email, _) = await h.RegisterAsync(c);
        string fresh = UniqueName() + "@example.org";

        // Never sent a code: the answer is the same for a taken name, a taken address and a free one.
        var takenName = await Register(c, name, fresh, "123456");
        var takenEmail = await Register(c, UniqueName(), email, "123456");
        var free = await Register(c, UniqueName(), UniqueName() + "@example.org", "123456");
        Assert.Equal(ErrorCodes.InvalidCode, takenName.Code);
        Assert.Equal(ErrorCodes.InvalidCode, takenEmail.Code);
        Assert.Equal(free.Code, takenName.Code);
        Assert.Equal(free.Message, takenName.Message);
        Assert.Equal(free.Message, takenEmail.Message);

        // A wrong code for an address that has one pending: still only INVALID_CODE.
        await Ok(SendCode(c, fresh));
        string code = h.Mailer.CodeFor(fresh);
        Assert.Equal(ErrorCodes.InvalidCode, (await Register(c, name, fresh, code == "000000" ? "111111" : "000000")).Code);

        // Field rules still come first of all.
        var badField = await Register(c, "x", email, "123456");
        Assert.Equal(ErrorCodes.InvalidArgument, badField.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task With_a_valid_code_a_taken_name_is_named_and_the_code_stays_usable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        await Ok(c.RequestAsync("heartbeat", ct: ct));
        var (name, _, _) = await h.RegisterAsync(c);
        string fresh = UniqueName() + "@example.org";
        await Ok(SendCode(c, fresh));
        string code = h.Mailer.CodeFor(fresh);

        var taken = await Register(c, name.ToUpperInvariant(), fresh, code);
        Assert.Equal(ErrorCodes.AlreadyExists, taken.Code);
        Assert.StartsWith("username", taken.Message);
        // The owner of the mailbox picks another name with the same code.
        await Ok(Register(c, UniqueName(), fresh, code));
        // Used now: it cannot register a second account.
        Assert.Equal(ErrorCodes.InvalidCode, (await Register(c, UniqueName(), fresh, code)).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task One_valid_code_answers_at_most_five_register_attempts()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, _, _) = await h.RegisterAsync(c);
        string fresh = UniqueName() + "@example.org";
        await Ok(SendCode(c, fresh));
        string code = h.Mailer.CodeFor(fresh);
        // Otherwise a code would be a budget-free check_username: each attempt with it counts as one of its 5 tries.
        for (int i = 0; i < 5; i++) Assert.Equal(ErrorCodes.AlreadyExists, (await Register(c, name, fresh, code)).Code);
        var sixth = await c.RequestAsync("register", w =>
        {
            w.WriteString("username", UniqueName());
            w.WriteString("email", fresh);
            w.WriteString("password", "a good password");
            w.WriteString("verification_code", code);
        }, ct: ct);
        Assert.Equal(ErrorCodes.InvalidCode, sixth.Code);
        Assert.Contains("too many", sixth.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task With_a_valid_code_a_registered_address_is_named()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        // Created directly: a registration through the protocol would leave its address in the code cooldown.
        string email = UniqueName() + "@example.org";
        await new MySqlUserStore(h.Db.DataSource).CreateAsync(UniqueName(), email, "not a usable hash", ct);
        await Ok(SendCode(c, email.ToUpperInvariant()));
        var taken = await Register(c, UniqueName(), email, h.Mailer.CodeFor(email));
        Assert.Equal(ErrorCodes.AlreadyExists, taken.Code);
        Assert.StartsWith("email", taken.Message);
    }
}
