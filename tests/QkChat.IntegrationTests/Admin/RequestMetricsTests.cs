using System.Text.Json;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Admin;

/// <summary>
/// issue 8's request, batch and pool metrics on the real engine: requests by action and code, the latency
/// histograms, the write-behind commit times, MySqlConnector's pool state, and the dashboard's request figures.
/// </summary>
public sealed class RequestMetricsTests
{
    private static async Task<Dictionary<string, double>> Metrics(AdminHarness h) =>
        AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);

    [Fact(Timeout = 60_000)]
    public async Task Heartbeats_and_an_unknown_action_are_counted_by_action_and_code_with_a_latency_histogram()
    {
        await using var h = await AdminHarness.StartAsync();
        var before = await Metrics(h);
        Assert.DoesNotContain(before.Keys, k => k.Contains("action=\"heartbeat\"", StringComparison.Ordinal));

        using var raw = await RawClient.ConnectAsync(h.Chat.Server.Port);
        for (int i = 0; i < 5; i++)
        {
            await raw.SendAsync(RawClient.Heartbeat("hb" + i));
            Assert.Equal("OK", (await raw.ReadAsync()).Code());
        }
        await raw.SendJsonAsync("""{"action":"no_such_action","request_id":"x"}""");
        Assert.Equal("UNKNOWN_ACTION", (await raw.ReadAsync()).Code());

        var after = await Metrics(h);
        Assert.Equal(5, after["qkchat_requests_total{action=\"heartbeat\",code=\"OK\"}"]);
        Assert.Equal(1, after["qkchat_requests_total{action=\"(rejected)\",code=\"UNKNOWN_ACTION\"}"]);
        Assert.Equal(5, after["qkchat_request_duration_seconds_count{action=\"heartbeat\"}"]);
        Assert.Equal(5, after["qkchat_request_duration_seconds_bucket{action=\"heartbeat\",le=\"+Inf\"}"]);
        Assert.Equal(5, after["qkchat_request_duration_seconds_bucket{action=\"heartbeat\",le=\"10\"}"]); // none took 10 s
        Assert.InRange(after["qkchat_request_duration_seconds_sum{action=\"heartbeat\"}"], 1e-9, 1);
        Assert.Equal(1, after["qkchat_request_duration_seconds_count{action=\"(rejected)\"}"]);
        // Only the pairs that occurred are listed: no zero rows for the forty other actions.
        Assert.DoesNotContain(after, s => s.Key.StartsWith("qkchat_requests_total", StringComparison.Ordinal) && s.Value == 0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_chat_message_moves_the_async_request_counts_the_batch_commit_times_and_the_dashboard_figures()
    {
        await using var h = await AdminHarness.StartAsync();
        var (a, aName) = await h.Chat.CreateUserAsync();
        var (b, bName) = await h.Chat.CreateUserAsync();
        await h.Chat.MakeFriendsAsync(a, b);
        await using var alice = await h.Chat.LoginAsync(aName);
        await using var bob = await h.Chat.LoginAsync(bName);
        await SendOk(alice, b, "timed");

        var metrics = await Metrics(h);
        // Both answered later, off the reactor (PendingResponse): counted when the answer was built.
        Assert.Equal(2, metrics["qkchat_requests_total{action=\"login\",code=\"OK\"}"]);
        Assert.Equal(1, metrics["qkchat_requests_total{action=\"send_message\",code=\"OK\"}"]);
        Assert.True(metrics["qkchat_request_duration_seconds_sum{action=\"login\"}"] > 0);
        Assert.True(metrics["qkchat_batch_commit_seconds_count{batcher=\"messages\"}"] >= 1);
        Assert.True(metrics["qkchat_batch_commit_seconds_sum{batcher=\"messages\"}"] > 0);
        Assert.True(metrics["qkchat_batch_commit_max_seconds{batcher=\"messages\"}"] > 0);
        Assert.Contains("qkchat_batch_commit_seconds_count{batcher=\"audit\"}", metrics.Keys);

        // The sampler's next second sees the requests: rate, and percentiles from the histogram's delta.
        JsonElement last = default;
        for (int i = 0; i < 50; i++)
        {
            await alice.RequestAsync("heartbeat", _ => { });
            var samples = JsonDocument.Parse((await h.GetAsync("api/dashboard")).Body).RootElement.GetProperty("samples");
            last = samples.EnumerateArray().LastOrDefault(s => s.GetProperty("requests_per_s").GetDouble() > 0);
            if (last.ValueKind == JsonValueKind.Object) break;
            await Task.Delay(100);
        }
        Assert.Equal(JsonValueKind.Object, last.ValueKind);
        Assert.True(last.GetProperty("p99_ms").GetDouble() >= last.GetProperty("p50_ms").GetDouble());
        Assert.Equal(0, last.GetProperty("error_percent").GetDouble());
    }

    [Fact(Timeout = 60_000)]
    public async Task MySqlConnector_pool_metrics_show_the_used_idle_and_maximum_connections_of_each_pool()
    {
        await using var h = await AdminHarness.StartAsync();
        var (_, name) = await h.Chat.CreateUserAsync();
        await using var client = await h.Chat.LoginAsync(name);
        // The pool name is the connection string without the password; this harness's database names its pool.
        string pool = "Database=" + h.Chat.Db.Name;
        Dictionary<string, double> metrics = [];
        double idle = 0, used = 0;
        // A connection moving between idle and used is reported as two changes (-1 idle, then +1 used): a scrape
        // between them sees one connection fewer for a moment (the audit writer uses the pool after a login).
        for (int i = 0; i < 50 && idle + used < 1; i++)
        {
            if (i > 0) await Task.Delay(100);
            metrics = await Metrics(h);
            idle = AdminHarness.Single(metrics, "db_client_connections_usage", pool, "state=\"idle\"");
            used = AdminHarness.Single(metrics, "db_client_connections_usage", pool, "state=\"used\"");
            Assert.True(idle >= 0 && used >= 0, $"idle {idle}, used {used}");
        }
        Assert.True(idle + used >= 1, "the pool opened a connection");
        Assert.True(AdminHarness.Single(metrics, "db_client_connections_max", pool) >= 1);
        Assert.Contains(metrics.Keys, k => k.StartsWith("db_client_connections_wait_time_seconds_count{", StringComparison.Ordinal) && k.Contains(pool));
        Assert.DoesNotContain(metrics.Keys, k => k.Contains(TestStack.DbPassword, StringComparison.Ordinal));
    }
}
