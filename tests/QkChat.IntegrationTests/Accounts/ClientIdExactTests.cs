using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Accounts.AccountsHarness;

namespace QkChat.IntegrationTests.Accounts;

/// <summary>
/// client_id is compared exactly, byte for byte, everywhere (issue 16 point 1): in the sessions table, in the live
/// sessions of this node and in every revocation. Variants that differ only in case, an accent or a trailing space
/// are different devices: get_sessions lists each, and every way of ending a session ends exactly the one named.
/// </summary>
public sealed class ClientIdExactTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    // Equal under utf8mb4_unicode_ci (case, accent, PAD SPACE), different byte for byte.
    private static readonly string[] Variants = ["Dev-x", "dev-x", "DEV-x ", "Dév-x"];

    private static async Task<List<string>> SessionIdsAsync(ChatClient client) =>
        Data(await Ok(client.RequestAsync("get_sessions"))).GetProperty("sessions").EnumerateArray()
            .Select(s => s.GetProperty("client_id").GetString()!).Order(StringComparer.Ordinal).ToList();

    private static async Task<(AccountsHarness H, string Name, string Email, string Password, ChatClient Phone, Dictionary<string, ChatClient> Devices)>
        SignInVariantsAsync()
    {
        var h = await StartAsync();
        var phone = await h.ConnectAsync();
        var (name, email, password) = await h.RegisterAsync(phone);
        await Ok(Login(phone, name, password, "phone"));
        var devices = new Dictionary<string, ChatClient>(StringComparer.Ordinal);
        foreach (string variant in Variants)
        {
            var c = await h.ConnectAsync();
            await Ok(Login(c, name, password, variant));
            devices[variant] = c;
        }
        return (h, name, email, password, phone, devices);
    }

    private static async Task AssertKickedAsync(ChatClient client, string reason)
    {
        var kicked = await client.WaitForPushAsync("kicked", Wait, TestContext.Current.CancellationToken);
        Assert.Equal(reason, kicked.Data!.Value.GetProperty("reason").GetString());
        await client.Closed.WaitAsync(Wait, TestContext.Current.CancellationToken);
    }

    private static async Task DisposeAllAsync(AccountsHarness h, ChatClient phone, Dictionary<string, ChatClient> devices)
    {
        foreach (var c in devices.Values) await c.DisposeAsync();
        await phone.DisposeAsync();
        await h.DisposeAsync();
    }

    [Fact(Timeout = 120_000)] // five logins and a registration on a loaded box
    public async Task Variants_are_separate_devices_and_change_password_revokes_every_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var (h, _, _, password, phone, devices) = await SignInVariantsAsync();
        try
        {
            Assert.Equal(new[] { "phone" }.Concat(Variants).Order(StringComparer.Ordinal), await SessionIdsAsync(phone));
            foreach (var c in devices.Values) await Ok(c.RequestAsync("heartbeat")); // none pushed another out

            await Ok(phone.RequestAsync("change_password", w => { w.WriteString("old_password", password); w.WriteString("new_password", "a brand new secret"); }));
            foreach (var c in devices.Values) await AssertKickedAsync(c, "revoked");
            Assert.Equal(["phone"], await SessionIdsAsync(phone));
            await Ok(phone.RequestAsync("heartbeat", ct: ct));
        }
        finally
        {
            await DisposeAllAsync(h, phone, devices);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Reset_password_revokes_every_variant()
    {
        var ct = TestContext.Current.CancellationToken;
        var (h, _, email, _, phone, devices) = await SignInVariantsAsync();
        try
        {
            await using var anon = await h.ConnectAsync();
            await Ok(anon.RequestAsync("heartbeat", ct: ct));
            await Ok(anon.RequestAsync("send_verification_code", w => { w.WriteString("email", email); w.WriteString("type", "reset_password"); }));
            await Ok(anon.RequestAsync("reset_password", w =>
            {
                w.WriteString("email", email);
                w.WriteString("verification_code", h.Mailer.CodeFor(email));
                w.WriteString("new_password", "reset to this one");
            }));
            foreach (var c in devices.Values) await AssertKickedAsync(c, "revoked");
            await AssertKickedAsync(phone, "revoked");
        }
        finally
        {
            await DisposeAllAsync(h, phone, devices);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Revoke_logout_and_same_device_kicks_end_exactly_the_spelling_named()
    {
        var (h, name, _, password, phone, devices) = await SignInVariantsAsync();
        try
        {
            // revoke_session "dev-x" ends that device only.
            await Ok(phone.RequestAsync("revoke_session", w => w.WriteString("client_id", "dev-x")));
            await AssertKickedAsync(devices["dev-x"], "revoked");
            foreach (string other in new[] { "Dev-x", "DEV-x ", "Dév-x" }) await Ok(devices[other].RequestAsync("heartbeat"));
            Assert.Equal(new[] { "phone", "Dev-x", "DEV-x ", "Dév-x" }.Order(StringComparer.Ordinal), await SessionIdsAsync(phone));

            // logout on "DEV-x " ends that device only.
            await Ok(devices["DEV-x "].RequestAsync("logout"));
            await devices["DEV-x "].Closed.WaitAsync(Wait, TestContext.Current.CancellationToken);
            foreach (string other in new[] { "Dev-x", "Dév-x" }) await Ok(devices[other].RequestAsync("heartbeat"));
            Assert.Equal(new[] { "phone", "Dev-x", "Dév-x" }.Order(StringComparer.Ordinal), await SessionIdsAsync(phone));

            // A second sign-in as exactly "Dev-x" pushes out the first "Dev-x", not "Dév-x".
            await using var second = await h.ConnectAsync();
            await Ok(Login(second, name, password, "Dev-x"));
            await AssertKickedAsync(devices["Dev-x"], "same_device");
            await Ok(devices["Dév-x"].RequestAsync("heartbeat"));
            Assert.Equal(new[] { "phone", "Dev-x", "Dév-x" }.Order(StringComparer.Ordinal), await SessionIdsAsync(phone));
        }
        finally
        {
            await DisposeAllAsync(h, phone, devices);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_token_resumes_only_under_its_own_spelling()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var h = await StartAsync();
        await using var c = await h.ConnectAsync();
        var (name, _, password) = await h.RegisterAsync(c);
        string token = Data(await Ok(Login(c, name, password, "Dev-x"))).GetProperty("token").GetString()!;
        await using var again = await h.ConnectAsync();
        foreach (string variant in new[] { "dev-x", "DEV-x ", "Dév-x", "Dev-x " })
        {
            var resumed = await again.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", variant); });
            Assert.Equal(ErrorCodes.TokenInvalid, resumed.Code);
        }
        await Ok(again.RequestAsync("login_token", w => { w.WriteString("token", token); w.WriteString("client_id", "Dev-x"); }, ct: ct));
    }
}
