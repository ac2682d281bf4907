using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// One person using the web client in their own browser context: the steps a person takes (type, click), and what
/// they see (elements found by their data-testid). Every wait is Playwright's, bounded by WebBrowser.StepTimeout.
/// Uncaught script errors and console errors are collected so a test can insist there were none.
/// </summary>
internal sealed class BrowserUser
{
    private readonly ConcurrentQueue<string> _scriptErrors = new();
    private readonly ConcurrentBag<string> _expectedConsoleErrors = [];

    public BrowserUser(string label, IBrowserContext context, IPage page)
    {
        Label = label;
        Context = context;
        Page = page;
        page.PageError += (_, error) => _scriptErrors.Enqueue("uncaught: " + error);
        page.Console += (_, message) =>
        {
            // A WebSocket torn down by a reload or by the test's end logs a network error, not a script fault.
            if (message.Type == "error" && !message.Text.Contains("WebSocket", StringComparison.Ordinal) &&
                !_expectedConsoleErrors.Any(e => message.Text.Contains(e, StringComparison.Ordinal)))
                _scriptErrors.Enqueue("console: " + message.Text);
        };
    }

    public string Label { get; }
    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public IReadOnlyCollection<string> ScriptErrors => _scriptErrors;

    /// <summary>
    /// A console error the test causes on purpose (a request it cuts logs the network error) is not a script fault;
    /// anything else still is.
    /// </summary>
    public void ExpectConsoleError(string text) => _expectedConsoleErrors.Add(text);

    public ILocator ById(string testId) => Page.GetByTestId(testId);

    public async Task OpenAsync() => await Page.GotoAsync("/");

    public async Task SignUpAsync(WebHarness harness, WebAccount account)
    {
        await ById("show-signup").ClickAsync();
        await ById("signup-username").FillAsync(account.Name);
        await ById("signup-email").FillAsync(account.Email);
        await ById("signup-send-code").ClickAsync();
        await Expect(ById("auth-info")).ToContainTextAsync("6-digit code");
        await ById("signup-code").FillAsync(await harness.MailedCodeAsync(account.Email));
        await ById("signup-password").FillAsync(account.Password);
        await ById("signup-submit").ClickAsync();
        await ExpectSignedInAsync(account.Name);
    }

    public async Task LoginAsync(WebAccount account)
    {
        await ById("login-username").FillAsync(account.Name);
        await ById("login-password").FillAsync(account.Password);
        await ById("login-submit").ClickAsync();
        await ExpectSignedInAsync(account.Name);
    }

    public async Task ExpectSignedInAsync(string name)
    {
        await Expect(ById("me-name")).ToHaveTextAsync(name);
        await Expect(ById("connection-state")).ToHaveAttributeAsync("data-state", "online");
    }

    public ILocator Conversation(string title) => Page.Locator($"[data-testid=conversation][data-title=\"{title}\"]");

    public ILocator Messages => ById("messages").GetByTestId("message");

    /// <summary>My message (or theirs) with exactly this text, in the open chat.</summary>
    public ILocator Message(string text) =>
        Messages.Filter(new LocatorFilterOptions { Has = Page.GetByTestId("message-text").GetByText(text, new() { Exact = true }) });

    public async Task OpenChatWithFriendAsync(string username)
    {
        await ById("tab-friends").ClickAsync();
        await Page.Locator($"[data-testid=friend][data-username=\"{username}\"]").GetByTestId("open-chat").ClickAsync();
        await Expect(ById("chat-title")).ToBeVisibleAsync();
    }

    public async Task OpenConversationAsync(string title)
    {
        await ById("tab-chats").ClickAsync();
        await Conversation(title).ClickAsync();
        await Expect(ById("chat-title")).ToHaveTextAsync(title);
    }

    /// <summary>Types and sends; returns once the server accepted it (the bubble left the 'sending' state).</summary>
    public async Task SendAsync(string text)
    {
        await ById("composer-input").FillAsync(text);
        await ById("composer-send").ClickAsync();
        await Expect(Message(text)).ToHaveAttributeAsync("data-mine", "true");
        await Expect(Message(text)).Not.ToHaveAttributeAsync("data-status", "sending");
    }

    public async Task ExpectStatusAsync(string text, string status) =>
        await Expect(Message(text)).ToHaveAttributeAsync("data-status", status);

    public async Task SearchAndAddFriendAsync(string username)
    {
        await ById("tab-friends").ClickAsync();
        await ById("friend-search-input").FillAsync(username);
        await ById("friend-search-submit").ClickAsync();
        await Page.Locator($"[data-testid=search-result][data-username=\"{username}\"]").GetByTestId("add-friend").ClickAsync();
        await Expect(Page.Locator($"[data-testid=outgoing-request][data-username=\"{username}\"]")).ToBeVisibleAsync();
    }

    public async Task AcceptFriendRequestAsync(string fromUsername)
    {
        await ById("tab-friends").ClickAsync();
        await Page.Locator($"[data-testid=incoming-request][data-username=\"{fromUsername}\"]").GetByTestId("accept-request").ClickAsync();
        await Expect(Friend(fromUsername)).ToBeVisibleAsync();
    }

    public ILocator Friend(string username) => Page.Locator($"[data-testid=friend][data-username=\"{username}\"]");

    public ILocator ErrorToast => ById("error");

    /// <summary>A PNG of the page as it is; <paramref name="withoutNotices"/> first clears passing notices (not errors).</summary>
    public async Task ScreenshotAsync(string directory, string name, bool withoutNotices = false)
    {
        Directory.CreateDirectory(directory);
        if (withoutNotices) await Page.EvaluateAsync("() => document.querySelectorAll('[data-testid=notice]').forEach(n => n.remove())");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png") });
    }

    public static Regex Words(string text) => new(Regex.Escape(text));
}
