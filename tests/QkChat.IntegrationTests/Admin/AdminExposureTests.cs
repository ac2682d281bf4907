using System.Net.Http.Headers;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Admin;

/// <summary>issue 16: an admin listener off loopback needs a token, and the token travels in the Authorization header only.</summary>
public sealed class AdminExposureTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task An_admin_listener_off_loopback_without_a_token_refuses_to_start_naming_both_settings()
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_ADMIN_HOST"] = "0.0.0.0";
        await using var p = ServerProcess.Start(env);
        Assert.Equal(2, await p.WaitForExitAsync(Patience).WaitAsync(TestContext.Current.CancellationToken));
        Assert.Contains("admin.host", p.Output);
        Assert.Contains("admin.token", p.Output);
        Assert.DoesNotContain("ready: serving chat", p.Output);
    }

    [Fact(Timeout = 60_000)]
    public async Task With_a_token_the_admin_listener_serves_off_loopback_and_takes_the_token_from_the_header_only()
    {
        await using var db = await TempDatabase.CreateAsync();
        var env = ServerProcess.StackEnvironment(db.Name, ServerProcess.FreePort());
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_ADMIN_HOST"] = "0.0.0.0";
        env["QKCHAT_ADMIN_TOKEN"] = "exposed-token";
        await using var p = ServerProcess.Start(env);
        await p.WaitForOutputAsync("ready: serving chat", Patience).WaitAsync(TestContext.Current.CancellationToken);
        var port = System.Text.RegularExpressions.Regex.Match(p.Output, @"admin listener on http://0\.0\.0\.0:(\d+)/").Groups[1].Value;
        Assert.NotEqual("", port);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(401, (int)(await http.GetAsync("metrics?token=exposed-token", ct)).StatusCode);
        Assert.Equal(401, (int)(await http.GetAsync("api/dashboard?token=exposed-token", ct)).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "exposed-token");
        Assert.Equal(200, (int)(await http.SendAsync(request, ct)).StatusCode);
    }
}
