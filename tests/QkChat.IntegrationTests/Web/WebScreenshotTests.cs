using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// The main screens of the web client, filled with a small believable conversation, as PNGs: sign-in, chats, a chat,
/// friends (and a blocked one), a group with an image, its members with roles, the account page, and the phone layout. They go to .run/test-artifacts/web/ on every run (a person can look at
/// what the last run saw), or to QKCHAT_TEST_WEB_SCREENSHOTS when set: scripts/web-screenshots.sh points it at docs/web/,
/// which docs/web.md shows.
/// </summary>
public sealed class WebScreenshotTests
{
    [Fact(Timeout = 180_000)] // a browser, a server, four accounts and twelve screenshots on a loaded box; normally ~25 s
    public async Task The_main_screens_are_captured()
    {
        string dir = Environment.GetEnvironmentVariable("QKCHAT_TEST_WEB_SCREENSHOTS") is { Length: > 0 } chosen
            ? Path.GetFullPath(chosen)
            : Path.Combine(TestStack.RepoRoot, ".run", "test-artifacts", "web");
        await using var h = await WebHarness.StartAsync();
        var alice = await h.RegisterOverTcpAsync("alice_" + Guid.NewGuid().ToString("N")[..4]);
        var bob = await h.RegisterOverTcpAsync("bob_" + Guid.NewGuid().ToString("N")[..4]);
        var carol = await h.RegisterOverTcpAsync("carol_" + Guid.NewGuid().ToString("N")[..4]);
        var dave = await h.RegisterOverTcpAsync("dave_" + Guid.NewGuid().ToString("N")[..4]);
        await h.BefriendAsync(alice, bob);
        await h.BefriendAsync(alice, carol);
        await using var bobTcp = await h.LoginOverTcpAsync(bob);
        await using var carolTcp = await h.LoginOverTcpAsync(carol);
        await using (var daveTcp = await h.LoginOverTcpAsync(dave))
            await AccountsHarness.Ok(daveTcp.SendFriendRequestAsync(alice.Name, "we met at the climbing gym"));
        await AccountsHarness.Ok(carolTcp.SendMessageAsync(alice.UserId, "Lunch tomorrow?"));

        await using var browser = await WebBrowser.LaunchAsync();
        var page = await browser.NewUserAsync("alice", h.BaseUrl, width: 1100, height: 700);
        await WebScenario.RunAsync(h, [page], async () =>
        {
            await page.OpenAsync();
            await page.ById("login-username").FillAsync(alice.Name);
            await page.ScreenshotAsync(dir, "login", withoutNotices: true);
            await page.ById("login-password").FillAsync(alice.Password);
            await page.ById("login-submit").ClickAsync();
            await page.ExpectSignedInAsync(alice.Name);

            await page.OpenChatWithFriendAsync(bob.Name);
            await page.SendAsync("Are we still on for Saturday?");
            var pushed = await bobTcp.WaitForPushAsync("message", TimeSpan.FromSeconds(20));
            long id = pushed.Data!.Value.GetProperty("message_id").GetInt64();
            await AccountsHarness.Ok(bobTcp.MessageAckAsync([id]));
            await AccountsHarness.Ok(bobTcp.MarkReadAsync(alice.UserId, id));
            await AccountsHarness.Ok(bobTcp.SendMessageAsync(alice.UserId, "Yes! 9:00 at the crag. I'll bring the rope."));
            await Expect(page.Message("Yes! 9:00 at the crag. I'll bring the rope.")).ToBeVisibleAsync();
            await page.SendAsync("Great, see you there!");
            await page.ExpectStatusAsync("Are we still on for Saturday?", "read");
            await page.ScreenshotAsync(dir, "chat", withoutNotices: true);

            await page.ById("tab-chats").ClickAsync();
            await Expect(page.Conversation(carol.Name).GetByTestId("unread")).ToHaveTextAsync("1");
            await page.ScreenshotAsync(dir, "conversations", withoutNotices: true);

            await page.ById("tab-friends").ClickAsync();
            await Expect(page.Page.Locator($"[data-testid=incoming-request][data-username=\"{dave.Name}\"]")).ToBeVisibleAsync();
            await page.Friend(bob.Name).GetByTestId("edit-remark").ClickAsync();
            await page.ById("remark-input").FillAsync("Bob (climbing)");
            await page.ById("remark-save").ClickAsync();
            await Expect(page.Friend(bob.Name).GetByTestId("friend-name")).ToHaveTextAsync("Bob (climbing)");
            await page.ScreenshotAsync(dir, "friends", withoutNotices: true);

            await page.ById("tab-groups").ClickAsync();
            await page.ById("group-name-input").FillAsync("Saturday climbing");
            await page.Page.Locator($"[data-testid=group-member-option][data-username=\"{bob.Name}\"]").CheckAsync();
            await page.Page.Locator($"[data-testid=group-member-option][data-username=\"{carol.Name}\"]").CheckAsync();
            await page.ById("create-group").ClickAsync();
            await Expect(page.ById("chat-title")).ToHaveTextAsync("Saturday climbing");
            await page.SendAsync("Who needs a lift?");
            var entry = await carolTcp.WaitForPushAsync("group_message", TimeSpan.FromSeconds(20));
            await AccountsHarness.Ok(carolTcp.SendGroupMessageAsync(entry.Data!.Value.GetProperty("group_id").GetInt64(), "Me please, from the station"));
            await Expect(page.Message("Me please, from the station")).ToBeVisibleAsync();
            await page.ScreenshotAsync(dir, "group", withoutNotices: true);
            await page.ById("group-members-link").ClickAsync();
            await Expect(page.ById("group-member")).ToHaveCountAsync(3);
            await page.ScreenshotAsync(dir, "group-members", withoutNotices: true);

            // The owner's view of roles: bob made an admin, the dissolve confirmation open.
            await page.Page.Locator($"[data-testid=group-member][data-username=\"{bob.Name}\"]").GetByTestId("make-admin").ClickAsync();
            await Expect(page.Page.Locator($"[data-testid=group-member][data-username=\"{bob.Name}\"]")).ToHaveAttributeAsync("data-role", "admin");
            await page.ById("dissolve-group").ClickAsync();
            await Expect(page.ById("dissolve-confirm")).ToBeVisibleAsync();
            await page.ScreenshotAsync(dir, "group-roles", withoutNotices: true);
            await page.ById("dissolve-group-cancel").ClickAsync();

            // An image in the group chat, with a caption and its preview (the back arrow shows on phones only).
            await page.Page.GoBackAsync();
            await Expect(page.ById("chat-title")).ToHaveTextAsync("Saturday climbing");
            await page.ById("composer-input").FillAsync("The view from the top last time");
            await page.ById("attach-input").SetInputFilesAsync(new Microsoft.Playwright.FilePayload
                { Name = "summit.png", MimeType = "image/png", Buffer = TestPng.Landscape(480, 270) });
            await Expect(page.ById("file-preview")).ToHaveJSPropertyAsync("naturalWidth", 480);
            await page.ScreenshotAsync(dir, "group-file", withoutNotices: true);

            await page.ById("account-link").ClickAsync();
            await Expect(page.ById("account-title")).ToBeVisibleAsync();
            await page.ScreenshotAsync(dir, "account", withoutNotices: true);

            await page.ById("tab-friends").ClickAsync();
            await page.Friend(carol.Name).GetByTestId("block-user").ClickAsync();
            await Expect(page.ById("blocked-user")).ToBeVisibleAsync();
            await page.ScreenshotAsync(dir, "friends-blocked", withoutNotices: true);
            await page.Friend(carol.Name).GetByTestId("unblock-user").ClickAsync();
            await Expect(page.ById("blocked-user")).ToHaveCountAsync(0);
            await page.Page.GotoAsync("/#/chats");
            await page.OpenConversationAsync("Saturday climbing");
            await page.ById("group-members-link").ClickAsync();
            await Expect(page.ById("group-member")).ToHaveCountAsync(3);

            await page.Page.SetViewportSizeAsync(390, 760);
            await page.ById("back").ClickAsync();
            await Expect(page.ById("messages")).ToBeVisibleAsync();
            await page.ScreenshotAsync(dir, "phone-chat", withoutNotices: true);
            await page.ById("back").ClickAsync();
            await Expect(page.ById("conversations")).ToBeVisibleAsync();
            await page.ScreenshotAsync(dir, "phone-chats", withoutNotices: true);
        });
        foreach (string name in new[] { "login", "chat", "conversations", "friends", "group", "group-members", "group-roles", "group-file",
                     "account", "friends-blocked", "phone-chat", "phone-chats" })
            Assert.True(new FileInfo(Path.Combine(dir, name + ".png")).Length > 5_000, name + ".png missing or empty");
    }
}
