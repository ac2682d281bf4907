using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// protocol.md §4: a logged-in device is closed when it has sent nothing for the idle timeout. The idle clock starts
/// at the login: it used to start only at the first frame after it, so a device that logged in and stayed silent was
/// closed at the login timeout counted from its connect (30 s by default, whatever the idle timeout).
/// </summary>
public sealed class SessionTimeoutTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_silent_device_is_closed_at_the_idle_timeout_counted_from_its_login_not_at_the_login_timeout()
    {
        // A login timeout far beyond the wait below: the kick can only come from an idle clock started at the login
        // (the old code kept the 600 s login deadline, so no kick came within the wait).
        await using var h = await ChatHarness.StartAsync(chat: c =>
        {
            c.LoginTimeout = TimeSpan.FromSeconds(600);
            c.IdleTimeout = TimeSpan.FromSeconds(2);
        });
        var (_, name) = await h.CreateUserAsync();
        var client = await h.LoginAsync(name);

        var kicked = await client.WaitForPushAsync(PushNames.Kicked, TimeSpan.FromSeconds(60));
        Assert.Equal("idle_timeout", kicked.Data!.Value.GetProperty("reason").GetString());
    }
}
