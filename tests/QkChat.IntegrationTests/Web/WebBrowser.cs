using Microsoft.Playwright;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// Debian's chromium (/usr/bin/chromium, installed by scripts/ensure-tools.sh), headless, driven by Playwright over
/// the DevTools protocol. Nothing is downloaded: Playwright's driver ships inside its NuGet package and the browser
/// is the system's. Every launch gets a fresh temporary profile (Playwright makes one per launch and deletes it
/// after), so no state leaks between tests; each user of a test is a browser context of its own (own localStorage).
/// </summary>
internal sealed class WebBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>
    /// How long any one step may wait for the page (an element to appear, a text to change). Generous: on a loaded
    /// 2-core box a push can take a second or two to travel server, socket and page; a hang still fails by name.
    /// </summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(20);

    // Flags that keep a headless run quiet and self-contained: no sandbox (root in CI), no GPU, no background
    // fetches, no component updates or sync, no first-run UI.
    private static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage",
    ];

    private readonly IPlaywright _playwright;

    private WebBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<WebBrowser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: scripts/ensure-tools.sh installs Debian's chromium (make test runs it)");
        Assertions.SetDefaultExpectTimeout((float)StepTimeout.TotalMilliseconds);
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = Flags,
                Timeout = 60_000, // the first start on a cold, loaded box reads ~200 MB of browser from disk
            });
            return new WebBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A new user: a browser context of its own (cookies, localStorage) with one page.</summary>
    public async Task<BrowserUser> NewUserAsync(string label, string baseUrl, int width = 1200, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            BaseURL = baseUrl,
        });
        context.SetDefaultTimeout((float)StepTimeout.TotalMilliseconds);
        var page = await context.NewPageAsync();
        return new BrowserUser(label, context, page);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
