using QkChat.Protocol;
using QkChat.Server.Accounts;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

public sealed class AccountFlowTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact(Timeout = 60_000)]
    public async Task Register_login_by_name_and_email_resume_and_logout()
    {
        await using var h = await StartAsync();
        await using var client = await h.ConnectAsync();
        var (name, email, password) = await h.RegisterAsync(client);

        var byName = await Ok(Login(client, name.ToUpperInvariant(), password, "phone"));
        var data = Data(byName);
        uint userId = data.GetProperty("user_id").GetUInt32();
        Assert.InRange(userId, 100_000_000u, 999_999_999u);
        Assert.Equal(name, data.GetProperty("username").GetString());
        Assert.Equal(email, data.GetProperty("email").GetString());
        string token = data.GetProperty("token").GetString()!;
        Assert.True(data.GetProperty("token_expires_at").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        await using var laptop = await h.ConnectAsync();
        var byEmail = await Ok(Login(laptop, email.ToUpperInvariant(), password, "laptop"));
        Assert.Equal(userId, Data(byEmail).GetProperty("user_id").GetUInt32());

        // An action that needs login now works on both; resume the phone's session on a new connection.
        await using var resumed = await h.ConnectAsync();
        var resume = await Ok(resumed.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "phone"); }));
        Assert.Equal(userId, Data(resume).GetProperty("user_id").GetUInt32());
        Assert.Equal(name, Data(resume).GetProperty("username").GetString()); // from the token cache, not a user row
        Assert.Equal(email, Data(resume).GetProperty("email").GetString());
        Assert.Equal("kicked", (await client.WaitForPushAsync("kicked", Wait)).Action); // same device: the old connection goes

        await Ok(resumed.RequestAsync("logout"));
        await resumed.Closed.WaitAsync(Wait, TestContext.Current.CancellationToken);

        await using var after = await h.ConnectAsync();
        var invalid = await after.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "phone"); });
        Assert.Equal(ErrorCodes.TokenInvalid, invalid.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Field_rules_come_first_and_name_the_field()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var cases = new (string Action, Action<System.Text.Json.Utf8JsonWriter> Fields, string Field)[]
        {
            ("register", w => { w.WriteString("username", "ab"); w.WriteString("email", "a@b.org"); w.WriteString("password", "12345678"); w.WriteString("verification_code", "123456"); }, "username"),
            ("register", w => { w.WriteString("username", "123456"); w.WriteString("email", "a@b.org"); w.WriteString("password", "12345678"); w.WriteString("verification_code", "123456"); }, "username"),
            ("register", w => { w.WriteString("username", "alice_1"); w.WriteString("email", "not-an-email"); w.WriteString("password", "12345678"); w.WriteString("verification_code", "000000"); }, "email"),
            ("register", w => { w.WriteString("username", "alice_1"); w.WriteString("email", "a@b.org"); w.WriteString("password", "short"); w.WriteString("verification_code", "123456"); }, "password"),
            ("register", w => { w.WriteString("username", "alice_1"); w.WriteString("email", "a@b.org"); w.WriteString("password", "12345678"); w.WriteString("verification_code", "12ab56"); }, "verification_code"),
            ("login", w => { w.WriteNumber("username", 5); w.WriteString("password", "12345678"); w.WriteString("client_id", "x"); }, "username"),
            ("login", w => { w.WriteString("username", "1' -- "); w.WriteString("password", "anything1"); w.WriteString("client_id", "x"); }, "username"),
            ("login", w => { w.WriteString("username", "alice_1"); w.WriteString("password", "12345678"); }, "client_id"),
            ("send_verification_code", w => { w.WriteString("email", "a@b.org"); w.WriteString("type", "spam"); }, "type"),
        };
        foreach (var (action, fields, field) in cases)
        {
            var response = await c.RequestAsync(action, fields);
            Assert.Equal(ErrorCodes.InvalidArgument, response.Code);
            Assert.StartsWith(field, response.Message);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_user_and_wrong_password_get_the_same_answer()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, _, _) = await h.RegisterAsync(c);
        var wrong = await Login(c, name, "wrong password!");
        var unknown = await Login(c, UniqueName(), "wrong password!");
        Assert.Equal(ErrorCodes.InvalidCredentials, wrong.Code);
        Assert.Equal(wrong.Code, unknown.Code);
        Assert.Equal(wrong.Message, unknown.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Taken_usernames_and_emails_are_refused_ignoring_case()
    {
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, _, _) = await h.RegisterAsync(c);
        string other = UniqueName() + "@example.org";
        await Ok(c.RequestAsync("send_verification_code", w => { w.WriteString("email", other); w.WriteString("type", "register"); }));
        var taken = await c.RequestAsync("register", w =>
        {
            w.WriteString("username", name.ToUpperInvariant());
            w.WriteString("email", other);
            w.WriteString("password", "another password");
            w.WriteString("verification_code", h.Mailer.CodeFor(other));
        });
        Assert.Equal(ErrorCodes.AlreadyExists, taken.Code);
        Assert.StartsWith("username", taken.Message);

        // The code comes first (RegisterOrderTests): only its holder learns that the address is registered. An
        // account made directly, so that its address is not in the cooldown of the code that registered it.
        string registered = UniqueName() + "@example.org";
        await new MySqlUserStore(h.Db.DataSource).CreateAsync(UniqueName(), registered, "not a usable hash", CancellationToken.None);
        await Ok(c.RequestAsync("send_verification_code", w => { w.WriteString("email", registered); w.WriteString("type", "register"); }));
        var emailTaken = await c.RequestAsync("register", w =>
        {
            w.WriteString("username", UniqueName());
            w.WriteString("email", registered.ToUpperInvariant());
            w.WriteString("password", "another password");
            w.WriteString("verification_code", h.Mailer.CodeFor(registered));
        });
        Assert.Equal(ErrorCodes.AlreadyExists, emailTaken.Code);
        Assert.StartsWith("email", emailTaken.Message);
    }
}
