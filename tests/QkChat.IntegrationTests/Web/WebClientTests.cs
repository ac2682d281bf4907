using System.Text.Json;
using Microsoft.Playwright;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// The web client (src/QkChat.Server/Web/wwwroot) in headless Chromium against the real server, as people use it:
/// sign-up with the mailed code, friends, chat with read marks, a reload, a TCP user on the other end, a group, and
/// errors shown in words.
/// </summary>
/// <remarks>
/// Timeouts: 120 s per test, because one test starts a browser (~2-5 s on a loaded box), a server with its migrations
/// (~5 s) and walks 20-40 page steps, each allowed up to 20 s (WebBrowser.StepTimeout) but normally well under 1 s.
/// </remarks>
public sealed class WebClientTests
{
    private static readonly TimeSpan PushPatience = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 120_000)]
    public async Task Two_browser_users_sign_up_befriend_chat_with_read_marks_and_one_reload_keeps_everything()
    {
        await using var h = await WebHarness.StartAsync();
        await using var browser = await WebBrowser.LaunchAsync();
        var alice = await browser.NewUserAsync("alice", h.BaseUrl);
        var bob = await browser.NewUserAsync("bob", h.BaseUrl);
        await WebScenario.RunAsync(h, [alice, bob], async () =>
        {
            string suffix = Guid.NewGuid().ToString("N")[..8];
            var a = new WebAccount("alice_" + suffix, $"alice.{suffix}@example.org", "alice's secret " + suffix, 0);
            var b = new WebAccount("bob_" + suffix, $"bob.{suffix}@example.org", "bob's secret " + suffix, 0);
            await alice.OpenAsync();
            await bob.OpenAsync();
            await alice.SignUpAsync(h, a);
            await bob.SignUpAsync(h, b);

            // alice finds bob and asks; bob sees the request arrive (a push) and accepts; alice sees him as a friend.
            await alice.SearchAndAddFriendAsync(b.Name);
            await Expect(bob.ById("request-count")).ToHaveTextAsync("1");
            await bob.AcceptFriendRequestAsync(a.Name);
            await Expect(alice.Friend(b.Name)).ToBeVisibleAsync();
            await Expect(alice.Friend(b.Name)).ToHaveAttributeAsync("data-status", "online");

            // alice writes; bob, on another tab, sees an unread count, opens the chat, and alice's mark turns to read.
            await alice.OpenChatWithFriendAsync(b.Name);
            await alice.SendAsync("hello bob");
            await Expect(bob.ById("unread-total")).ToHaveTextAsync("1");
            await bob.ById("tab-chats").ClickAsync();
            await Expect(bob.Conversation(a.Name).GetByTestId("unread")).ToHaveTextAsync("1");
            await bob.OpenConversationAsync(a.Name);
            await Expect(bob.Message("hello bob")).ToHaveAttributeAsync("data-mine", "false");
            await alice.ExpectStatusAsync("hello bob", "read");
            await Expect(bob.ById("unread-total")).ToBeHiddenAsync();

            // And back: both chats are open, so bob's reply is read at once.
            await bob.SendAsync("hi alice");
            await Expect(alice.Message("hi alice")).ToHaveAttributeAsync("data-mine", "false");
            await bob.ExpectStatusAsync("hi alice", "read");
            await alice.SendAsync("how are you?");
            await bob.ExpectStatusAsync("hi alice", "read");
            await alice.ExpectStatusAsync("how are you?", "read");

            // bob reloads: no sign-in form, the same chat with everything in order, and live pushes still arrive.
            await bob.Page.ReloadAsync();
            await bob.ExpectSignedInAsync(b.Name);
            await Expect(bob.ById("login-username")).ToHaveCountAsync(0);
            await Expect(bob.ById("chat-title")).ToHaveTextAsync(a.Name);
            await Expect(bob.Messages.GetByTestId("message-text")).ToHaveTextAsync(["hello bob", "hi alice", "how are you?"]);
            await bob.ExpectStatusAsync("hi alice", "read");
            await alice.SendAsync("still there after the reload?");
            await Expect(bob.Message("still there after the reload?")).ToBeVisibleAsync();
            await alice.ExpectStatusAsync("still there after the reload?", "read");

            // A reload on the chat list shows the conversation with its last message.
            await bob.Page.GotoAsync("/#/chats");
            await bob.Page.ReloadAsync();
            await bob.ExpectSignedInAsync(b.Name);
            await Expect(bob.Conversation(a.Name)).ToContainTextAsync("still there after the reload?");
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task A_tcp_user_and_a_browser_user_talk_both_ways_with_marks_and_a_recall()
    {
        await using var h = await WebHarness.StartAsync();
        var web = await h.RegisterOverTcpAsync();
        var tcp = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(web, tcp);
        await using var tcpClient = await h.LoginOverTcpAsync(tcp);
        // Sent while the browser user is offline: it arrives as offline_messages at sign-in.
        await AccountsHarness.Ok(tcpClient.SendMessageAsync(web.UserId, "sent while you were away"));

        await using var browser = await WebBrowser.LaunchAsync();
        var page = await browser.NewUserAsync("web", h.BaseUrl);
        await WebScenario.RunAsync(h, [page], async () =>
        {
            await page.OpenAsync();
            await page.LoginAsync(web);
            await Expect(page.Conversation(tcp.Name).GetByTestId("unread")).ToHaveTextAsync("1");
            await Expect(page.Conversation(tcp.Name).GetByTestId("presence")).ToHaveAttributeAsync("data-status", "online");

            // The TCP user sees delivery (the page acked the offline message), then read when the chat opens.
            await page.OpenConversationAsync(tcp.Name);
            await Expect(page.Message("sent while you were away")).ToBeVisibleAsync();
            var read = await tcpClient.WaitForAsync(e => e.Push && e.Action == "message_status" && Status(e) == "read", PushPatience, "read mark");
            Assert.Equal(web.UserId, read.Data!.Value.GetProperty("peer_id").GetInt64());

            // A live message from TCP appears in the open chat; the browser's reply reaches TCP as a push.
            await AccountsHarness.Ok(tcpClient.SendMessageAsync(web.UserId, "and now live"));
            await Expect(page.Message("and now live")).ToBeVisibleAsync();
            await page.SendAsync("hello from the browser");
            var pushed = await tcpClient.WaitForAsync(e => e.Push && e.Action == "message" && Content(e) == "hello from the browser",
                PushPatience, "the browser's message");
            long id = pushed.Data!.Value.GetProperty("message_id").GetInt64();
            Assert.Equal(web.UserId, pushed.Data!.Value.GetProperty("sender_id").GetInt64());

            // TCP acks and reads: the browser's mark goes delivered, then read.
            await AccountsHarness.Ok(tcpClient.MessageAckAsync([id]));
            await page.ExpectStatusAsync("hello from the browser", "delivered");
            await AccountsHarness.Ok(tcpClient.MarkReadAsync(web.UserId, id));
            await page.ExpectStatusAsync("hello from the browser", "read");

            // The browser recalls its message: the TCP user is told, the page shows it recalled.
            await page.Message("hello from the browser").GetByTestId("recall").ClickAsync();
            var recalled = await tcpClient.WaitForPushAsync("message_recalled", PushPatience);
            Assert.Equal(id, recalled.Data!.Value.GetProperty("message_id").GetInt64());
            await Expect(page.Messages.Filter(new() { HasText = "You recalled a message" })).ToHaveCountAsync(1);

            // Presence: the TCP user leaves; the dot in the chat header turns grey.
            await Expect(page.ById("chat-sub")).ToHaveTextAsync("online");
            await tcpClient.DisposeAsync();
            await Expect(page.ById("chat-sub")).ToHaveTextAsync("offline");
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task A_group_is_created_and_used_in_the_browser_with_a_tcp_member()
    {
        await using var h = await WebHarness.StartAsync();
        var owner = await h.RegisterOverTcpAsync();
        var member = await h.RegisterOverTcpAsync();
        var tcpMember = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(owner, member);
        await h.BefriendAsync(owner, tcpMember);
        await using var tcp = await h.LoginOverTcpAsync(tcpMember);

        await using var browser = await WebBrowser.LaunchAsync();
        var ownerPage = await browser.NewUserAsync("owner", h.BaseUrl);
        var memberPage = await browser.NewUserAsync("member", h.BaseUrl);
        await WebScenario.RunAsync(h, [ownerPage, memberPage], async () =>
        {
            await ownerPage.OpenAsync();
            await ownerPage.LoginAsync(owner);
            await memberPage.OpenAsync();
            await memberPage.LoginAsync(member);

            // The owner creates the group with both friends ticked; the chat opens on its 'created' and 'added' lines.
            await ownerPage.ById("tab-groups").ClickAsync();
            await ownerPage.ById("group-name-input").FillAsync("climbing");
            await ownerPage.Page.Locator($"[data-testid=group-member-option][data-username=\"{member.Name}\"]").CheckAsync();
            await ownerPage.Page.Locator($"[data-testid=group-member-option][data-username=\"{tcpMember.Name}\"]").CheckAsync();
            await ownerPage.ById("create-group").ClickAsync();
            await Expect(ownerPage.ById("chat-title")).ToHaveTextAsync("climbing");
            await Expect(ownerPage.ById("system-entry").First).ToContainTextAsync("created the group");
            await ownerPage.SendAsync("saturday at the crag?");

            // The TCP member gets it as a group_message push and answers; both browsers show the answer with its sender.
            var entry = await tcp.WaitForAsync(e => e.Push && e.Action == "group_message" && Content(e) == "saturday at the crag?",
                PushPatience, "the owner's group message");
            long groupId = entry.Data!.Value.GetProperty("group_id").GetInt64();
            await AccountsHarness.Ok(tcp.SendGroupMessageAsync(groupId, "count me in"));
            await Expect(ownerPage.Message("count me in").GetByTestId("message-sender")).ToHaveTextAsync(tcpMember.Name);

            // The browser member finds the group in their chats with unread messages, opens it and answers.
            await memberPage.ById("tab-chats").ClickAsync();
            await Expect(memberPage.Conversation("climbing").GetByTestId("unread")).ToHaveTextAsync("2");
            await memberPage.OpenConversationAsync("climbing");
            await Expect(memberPage.Message("saturday at the crag?")).ToBeVisibleAsync();
            await Expect(memberPage.Message("count me in")).ToBeVisibleAsync();
            await memberPage.SendAsync("me too");
            await Expect(ownerPage.Message("me too").GetByTestId("message-sender")).ToHaveTextAsync(member.Name);
            await tcp.WaitForAsync(e => e.Push && e.Action == "group_message" && Content(e) == "me too", PushPatience, "the member's message");

            // Members: three, the owner marked as such.
            await ownerPage.ById("group-members-link").ClickAsync();
            await Expect(ownerPage.ById("group-member")).ToHaveCountAsync(3);
            await Expect(ownerPage.Page.Locator($"[data-testid=group-member][data-username=\"{owner.Name}\"]")).ToHaveAttributeAsync("data-role", "owner");
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task Errors_are_shown_in_words()
    {
        await using var h = await WebHarness.StartAsync();
        var account = await h.RegisterOverTcpAsync();
        await using var browser = await WebBrowser.LaunchAsync();
        var page = await browser.NewUserAsync("someone", h.BaseUrl);
        await WebScenario.RunAsync(h, [page], async () =>
        {
            await page.OpenAsync();
            await page.ById("login-username").FillAsync(account.Name);
            await page.ById("login-password").FillAsync("not the password");
            await page.ById("login-submit").ClickAsync();
            await Expect(page.ById("auth-error")).ToHaveTextAsync("Wrong username or password.");

            // A wrong sign-up code: the server's INVALID_CODE, in words.
            await page.ById("show-signup").ClickAsync();
            string name = "n" + Guid.NewGuid().ToString("N")[..10];
            await page.ById("signup-username").FillAsync(name);
            await page.ById("signup-email").FillAsync(name + "@example.org");
            await page.ById("signup-send-code").ClickAsync();
            string code = await h.MailedCodeAsync(name + "@example.org");
            await page.ById("signup-code").FillAsync(code == "000000" ? "111111" : "000000");
            await page.ById("signup-password").FillAsync("long enough password");
            await page.ById("signup-submit").ClickAsync();
            await Expect(page.ById("auth-error")).ToHaveTextAsync("That verification code is not right. Check the e-mail and try again.");

            // Asking for a second code at once: RATE_LIMITED, with the wait in seconds.
            await page.ById("signup-send-code").ClickAsync();
            await Expect(page.ById("auth-error")).ToContainTextAsync("Too many attempts. Please wait a moment and try again. Try again in");

            // Signed in, a message to someone who is not a friend (by URL): NOT_FRIENDS, in words.
            await page.ById("show-login").ClickAsync();
            await page.LoginAsync(account);
            var stranger = await h.RegisterOverTcpAsync();
            await page.Page.GotoAsync($"/#/chat/u/{stranger.UserId}");
            await page.ById("composer-input").FillAsync("hi stranger");
            await page.ById("composer-send").ClickAsync();
            await Expect(page.ErrorToast).ToContainTextAsync("You can only do that with your friends.");
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task On_a_phone_sized_window_history_pages_in_as_one_scrolls_up()
    {
        await using var h = await WebHarness.StartAsync();
        var web = await h.RegisterOverTcpAsync();
        var tcp = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(web, tcp);
        // 70 messages: more than two pages of 30, so scrolling up must fetch twice. The browser user wrote them from
        // another device (TCP): messages to them would arrive all at once as offline_messages at sign-in instead.
        const int count = 70;
        await using (var otherDevice = await h.LoginOverTcpAsync(web))
        {
            for (int i = 1; i <= count; i++) await AccountsHarness.Ok(otherDevice.SendMessageAsync(tcp.UserId, $"message {i}"));
        }

        await using var browser = await WebBrowser.LaunchAsync();
        var phone = await browser.NewUserAsync("phone", h.BaseUrl, width: 390, height: 844);
        await WebScenario.RunAsync(h, [phone], async () =>
        {
            await phone.OpenAsync();
            await phone.LoginAsync(web);
            // One pane at a time: the list, then the chat with a back arrow instead of the list.
            await Expect(phone.ById("tab-chats")).ToBeVisibleAsync();
            await phone.OpenConversationAsync(tcp.Name);
            await Expect(phone.ById("tab-chats")).ToBeHiddenAsync();
            await Expect(phone.ById("back")).ToBeVisibleAsync();
            await Expect(phone.Message($"message {count}")).ToBeInViewportAsync();
            await Expect(phone.Messages).ToHaveCountAsync(30);

            // Scroll to the top until the start of the conversation shows; every message is then there, in order.
            var list = phone.ById("messages");
            for (int i = 0; i < 10 && !await phone.ById("chat-start").IsVisibleAsync(); i++)
            {
                int before = await phone.Messages.CountAsync();
                await list.EvaluateAsync("el => el.scrollTop = 0");
                await Expect(phone.Messages).Not.ToHaveCountAsync(before);
            }
            await Expect(phone.ById("chat-start")).ToBeVisibleAsync();
            await Expect(phone.Messages).ToHaveCountAsync(count);
            var texts = await phone.Messages.GetByTestId("message-text").AllTextContentsAsync();
            Assert.Equal(Enumerable.Range(1, count).Select(i => $"message {i}"), texts);

            await phone.ById("back").ClickAsync();
            await Expect(phone.Conversation(tcp.Name)).ToBeVisibleAsync();
            await Expect(phone.Conversation(tcp.Name).GetByTestId("unread")).ToHaveCountAsync(0);
        });
    }

    private static string? Status(QkChat.Protocol.Envelope e) =>
        e.Data is { } d && d.TryGetProperty("status", out var s) ? s.GetString() : null;

    private static string? Content(QkChat.Protocol.Envelope e) =>
        e.Data is { } d && d.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
}
