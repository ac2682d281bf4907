using System.Net.Http.Headers;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Admin;

/// <summary>The admin listener inside the published AOT qkchatd: Kestrel starts, the token file is read, security events show.</summary>
public sealed class AdminBinaryTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_published_server_serves_metrics_and_the_dashboard_data_behind_its_token()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort(), adminPort = ServerProcess.FreePort();
        string tokenFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(tokenFile, "file-token\n");
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_ADMIN_PORT"] = adminPort.ToString();
        env["QKCHAT_ADMIN_TOKEN_FILE"] = tokenFile;
        await using var server = ServerProcess.Start(env);
        await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
        Assert.Contains($"admin listener on http://127.0.0.1:{adminPort}/", server.Output);
        Assert.DoesNotContain("file-token", server.Output);

        // A failed login shows up among the dashboard's security events.
        await using (var client = await QkChat.Client.ChatClient.ConnectAsync("127.0.0.1", port))
            await QkChat.IntegrationTests.Accounts.AccountsHarness.Login(client, "nobody_here", "not the password");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync("metrics")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "file-token");
        var metrics = await http.GetStringAsync("metrics");
        Assert.True(AdminHarness.Sum(AdminHarness.ParsePrometheus(metrics), "qkchat_accepted_total") >= 1);
        string dashboard = "";
        for (int i = 0; i < 50 && !dashboard.Contains("login_failed", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
            dashboard = await http.GetStringAsync("api/dashboard");
        }
        Assert.Contains("\"event\":\"login_failed\"", dashboard);
        Assert.DoesNotContain("not the password", dashboard);
    }
}
