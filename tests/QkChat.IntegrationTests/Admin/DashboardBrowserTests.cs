using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Admin;

/// <summary>
/// The dashboard in a real headless browser (Debian's chromium, installed by scripts/ensure-tools.sh): the page
/// runs its script without console errors and shows a client that the test connects. A screenshot is kept under
/// .run/test-artifacts/ for a person to look at.
/// </summary>
public sealed partial class DashboardBrowserTests
{
    private static async Task<CommandResult> Chromium(params string[] args) =>
        await ExternalProcess.RunAsync("chromium",
            ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--enable-logging=stderr", "--v=0",
             "--window-size=1280,900", "--virtual-time-budget=5000", .. args]);

    [Fact(Timeout = 60_000)]
    public async Task The_dashboard_loads_without_console_errors_and_shows_a_connected_client()
    {
        await using var h = await AdminHarness.StartAsync(token: "page-token");
        var (_, name) = await h.Chat.CreateUserAsync();
        await using var client = await h.Chat.LoginAsync(name);
        await Task.Delay(2500); // the sampler takes a sample a second: let it see the client

        // issue 16: a fragment never reaches the server (no access log, no Referer); the page moves it into a header.
        string url = new Uri(h.BaseUri, "#token=page-token").ToString();
        var dom = await Chromium("--dump-dom", url);
        Assert.Equal(0, dom.ExitCode);
        Assert.DoesNotMatch(ConsoleError(), dom.Stderr);
        Assert.Equal("1", ConnectionsValue().Match(dom.Stdout).Groups[1].Value);
        // The request charts (issue 8): latency percentiles, requests per second and the server's failure rate.
        // (the script has drawn on them: chromium writes their width and height into the tag)
        Assert.Matches("""<canvas id="c-latency"[^>]*\bwidth="\d+"[^>]*>""", dom.Stdout);
        Assert.Matches("""<canvas id="c-requests"[^>]*\bwidth="\d+"[^>]*>""", dom.Stdout);
        Assert.Matches("""<canvas id="c-error-rate"[^>]*\bwidth="\d+"[^>]*>""", dom.Stdout);
        Assert.Matches("""<b id="v-latency">[^<]+ / [^<]+ / [^<]+</b>""", dom.Stdout); // filled in by the script
        Assert.Equal("""<span id="stale"></span>""", StaleText().Match(dom.Stdout).Value); // the last fetch succeeded

        string artifacts = Path.Combine(TestStack.RepoRoot, ".run", "test-artifacts");
        Directory.CreateDirectory(artifacts);
        string shot = Path.Combine(artifacts, "dashboard.png");
        File.Delete(shot);
        var screenshot = await Chromium("--screenshot=" + shot, url);
        Assert.Equal(0, screenshot.ExitCode);
        Assert.True(new FileInfo(shot).Length > 10_000, "screenshot missing or empty");
    }

    [GeneratedRegex("""<span id="stale">[^<]*</span>""")]
    private static partial Regex StaleText();

    [GeneratedRegex("""<b id="v-connections">([^<]*)</b>""")]
    private static partial Regex ConnectionsValue();

    // Chromium prints page console messages as CONSOLE lines; errors and uncaught exceptions must not appear.
    [GeneratedRegex("Uncaught|CONSOLE\\(\\d+\\)\\] \"(Error|TypeError|ReferenceError)|:ERROR:CONSOLE")]
    private static partial Regex ConsoleError();
}
