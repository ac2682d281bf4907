using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// Runs a browser scenario; on failure it keeps a screenshot of every page under .run/test-artifacts/web-failures/
/// and adds the server's output to the exception, so a red run says what each person saw. On success it insists
/// that no page had a script error.
/// </summary>
internal static class WebScenario
{
    public static async Task RunAsync(WebHarness harness, BrowserUser[] users, Func<Task> scenario)
    {
        try
        {
            await scenario();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            string dir = Path.Combine(TestStack.RepoRoot, ".run", "test-artifacts", "web-failures");
            var notes = new List<string>();
            foreach (var user in users)
            {
                try
                {
                    string name = $"{DateTime.UtcNow:HHmmss}-{user.Label}";
                    await user.ScreenshotAsync(dir, name);
                    notes.Add($"{user.Label}: {Path.Combine(dir, name)}.png, url {user.Page.Url}; script errors: {string.Join(" | ", user.ScriptErrors)}");
                }
                catch (Exception shot)
                {
                    notes.Add($"{user.Label}: no screenshot ({shot.Message})");
                }
            }
            throw new Exception($"{e.Message}\n--- pages ---\n{string.Join('\n', notes)}\n--- qkchatd (last 6000 chars) ---\n{Tail(harness.Server.Output, 6000)}", e);
        }
        foreach (var user in users) Assert.True(user.ScriptErrors.Count == 0, $"{user.Label}'s page had script errors: {string.Join(" | ", user.ScriptErrors)}");
    }

    private static string Tail(string text, int chars) => text.Length <= chars ? text : text[^chars..];
}
