using System.Diagnostics;
using System.Text.RegularExpressions;
using QkChat.Client;
using QkChat.IntegrationTests.Admin;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// issue 18 (database connections): a hot group with many concurrent senders next to one-to-one sends and request-path
/// reads, on a real qkchatd. Asserts that neither is starved (every one-to-one send and every read is answered OK while
/// the group is hot, and no pool open gave up waiting) and writes the figures behind docs/storage.md "Connection
/// pools and group sends": latencies by phase and each pool's connection waits from MySqlConnector's metrics.
/// </summary>
public sealed partial class GroupPoolPressureTests
{
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(10);

    [Fact(Timeout = 180_000)] // one server, two 10 s phases and 24 logins on a loaded 2-core box
    public async Task A_hot_group_does_not_starve_one_to_one_sends_or_request_path_reads()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        // The pools are measured here, not the per-connection rate limit (the reader asks as fast as it is answered).
        env["QKCHAT_RATE_LIMIT_RPS"] = "100000";
        env["QKCHAT_RATE_LIMIT_BURST"] = "100000";
        await using var server = ServerProcess.Start(env);
        await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(30));
        var admin = new Uri(AdminLine().Match(server.Output).Groups[1].Value);
        using var http = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(20) };

        var group = await GroupSendStream.CreateAsync(db.DataSource, port, memberCount: 20);
        var (aId, aName) = await GroupSendStream.CreateUserAsync(db.DataSource);
        var (bId, bName) = await GroupSendStream.CreateUserAsync(db.DataSource);
        await GroupSendStream.BefriendAsync(db.DataSource, aId, bId);
        await using var alice = await GroupSendStream.LoginAsync(port, aName);
        await using var bob = await GroupSendStream.LoginAsync(port, bName);
        // A member who reads the hot group's history: a request-path query on the main pool, on the group being written.
        await using var reader = await GroupSendStream.LoginAsync(port, group.Members[0].Name, "reader");

        var quiet = await MeasureAsync(http, alice, bId, reader, group.GroupId);
        using var stop = new CancellationTokenSource();
        var (clients, streams) = await group.StartAsync(streamsPerMember: 4, stop.Token);
        await group.WaitForAnsweredAsync(200, streams); // the group is hot before the clock starts
        long entriesBefore = group.Answered.Count;
        var hot = await MeasureAsync(http, alice, bId, reader, group.GroupId);
        long entries = group.Answered.Count - entriesBefore;
        await stop.CancelAsync();
        await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var c in clients) await c.DisposeAsync();

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"quiet: {quiet}");
        output?.WriteLine($"hot group (20 members x 4 sends in flight, {entries / Phase.TotalSeconds:F0} entries/s answered): {hot}");
        Assert.True(hot.Sends > 0 && hot.Reads > 0, "one-to-one sends and reads went on while the group was hot");
        Assert.Empty(group.Refused); // no group send was refused either
        Assert.Equal(0, hot.Timeouts); // no pool open gave up waiting for a connection
    }

    /// <summary>One phase: alice sends to bob and the reader reads history, each one request at a time, for <see cref="Phase"/>.</summary>
    private static async Task<Figures> MeasureAsync(HttpClient http, ChatClient sender, uint to, ChatClient reader, long group)
    {
        var before = AdminHarness.ParsePrometheus(await http.GetStringAsync("metrics"));
        var sends = new List<double>();
        var reads = new List<double>();
        var until = Environment.TickCount64 + (long)Phase.TotalMilliseconds;
        var sending = Task.Run(async () =>
        {
            for (int i = 0; Environment.TickCount64 < until; i++)
            {
                long t = Stopwatch.GetTimestamp();
                await Ok(Send(sender, to, $"one-to-one {i}"));
                sends.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        });
        var reading = Task.Run(async () =>
        {
            while (Environment.TickCount64 < until)
            {
                long t = Stopwatch.GetTimestamp();
                await Ok(GroupKit.History(reader, group, 50));
                reads.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        });
        await Task.WhenAll(sending, reading);
        var after = AdminHarness.ParsePrometheus(await http.GetStringAsync("metrics"));
        double Delta(string name, string pool) => PoolValue(after, name, pool) - PoolValue(before, name, pool);
        return new Figures(sends.Count, Median(sends), Percentile(sends, 0.9), reads.Count, Median(reads), Percentile(reads, 0.9),
            Delta("db_client_connections_wait_time_seconds_count", "qkchat"), Delta("db_client_connections_wait_time_seconds_sum", "qkchat") * 1000,
            Delta("db_client_connections_wait_time_seconds_count", "qkchat-writers"), Delta("db_client_connections_wait_time_seconds_sum", "qkchat-writers") * 1000,
            (long)(Delta("db_client_connections_timeouts_total", "qkchat") + Delta("db_client_connections_timeouts_total", "qkchat-writers")));
    }

    private static double PoolValue(Dictionary<string, double> metrics, string name, string pool) =>
        metrics.Where(m => m.Key.StartsWith(name + "{", StringComparison.Ordinal) && m.Key.Contains($"pool_name=\"{pool}\"", StringComparison.Ordinal))
            .Sum(m => m.Value);

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
    }

    private sealed record Figures(int Sends, double SendP50, double SendP90, int Reads, double ReadP50, double ReadP90,
        double MainOpens, double MainWaitMs, double WriterOpens, double WriterWaitMs, long Timeouts)
    {
        public override string ToString() =>
            $"send_message {Sends} answered, p50 {SendP50:F1} ms, p90 {SendP90:F1} ms; get_group_history {Reads}, p50 {ReadP50:F1} ms, p90 {ReadP90:F1} ms; " +
            $"pool qkchat: {MainOpens:F0} opens, {MainWaitMs:F1} ms waited in all; pool qkchat-writers: {WriterOpens:F0} opens, {WriterWaitMs:F1} ms waited in all; " +
            $"timeouts {Timeouts}";
    }

    [GeneratedRegex(@"admin listener on (http://[^/\s]+/)")]
    private static partial Regex AdminLine();
}
