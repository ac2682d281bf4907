using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// issue 18 (durability): qkchatd stopped in the middle of a stream of group sends, by SIGKILL and by SIGTERM, and
/// started again on the same database. The group CrashSafetyTests of one-to-one messages.
/// </summary>
public sealed class GroupStopTests
{
    private const int SIGKILL = 9;
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 180_000)] // two server starts and a few thousand sends on a loaded 2-core box
    public async Task Every_answered_group_send_survives_SIGKILL_without_a_seq_gap_and_a_resend_stores_each_once()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        var server = ServerProcess.Start(env);
        try
        {
            await server.WaitForOutputAsync("ready: serving chat", Start);
            var group = await GroupSendStream.CreateAsync(db.DataSource, port, memberCount: 4);
            using var stop = new CancellationTokenSource();
            var (clients, streams) = await group.StartAsync(streamsPerMember: 4, stop.Token);
            await group.WaitForAnsweredAsync(400, streams);

            server.Signal(SIGKILL); // mid-stream: batches are being stored and answered
            await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(30));
            await server.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await server.DisposeAsync();
            foreach (var c in clients) await c.DisposeAsync();
            Assert.True(group.Sent.Count > group.Answered.Count, "the kill came mid-stream, with sends unanswered");

            server = ServerProcess.Start(env);
            await server.WaitForOutputAsync("ready: serving chat", Start);
            await using var reader = await GroupSendStream.LoginAsync(port, group.Members[0].Name, "reader");
            var stored = group.CheckStored(await GroupSendStream.AllEntriesAsync(reader, group.GroupId));
            // History agrees with sync at its newest page.
            var newest = (await Ok(GroupKit.History(reader, group.GroupId, 100))).GetProperty("messages");
            Assert.Equal(stored.Values.Select(e => e.GetProperty("seq").GetInt64()).Max(), newest[0].GetProperty("seq").GetInt64());
            await group.ResendUnansweredAsync(stored);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact(Timeout = 180_000)] // two server starts on a loaded 2-core box
    public async Task SIGTERM_stores_and_answers_every_queued_group_send_before_closing_and_logs_the_drain()
    {
        await using var db = await TempDatabase.CreateAsync();
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        // Each batch waits its full second (the most the option allows) to fill, and the drain counts a batch still
        // being written: once the writer's gauge shows an entry waiting, a SIGTERM finds it for a second and more. (A
        // stop sent right after a commit once found nothing: the streams' next sends were still a round trip away.)
        env["QKCHAT_MESSAGE_BATCH_DELAY_MS"] = "1000";
        var server = ServerProcess.Start(env);
        try
        {
            await server.WaitForOutputAsync("ready: serving chat", Start);
            var group = await GroupSendStream.CreateAsync(db.DataSource, port, memberCount: 3);
            using var stop = new CancellationTokenSource();
            var (clients, streams) = await group.StartAsync(streamsPerMember: 4, stop.Token);
            await group.WaitForAnsweredAsync(12, streams); // one batch: the streams are running
            await Wait.UntilAsync(async () => await ServerProcess.MetricAsync(server, "qkchat_group_entries_queued") >= 1,
                "a group send waits in the writer", TimeSpan.FromSeconds(30));

            server.Signal(ServerProcess.SIGTERM);
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (var c in clients) await c.DisposeAsync();
            string stopLog = server.Output;
            await server.DisposeAsync();

            // The restart stores at once: the resends below go one at a time, and a second's wait each (one per
            // refused send, often over a hundred) once ran the test past its timeout.
            env.Remove("QKCHAT_MESSAGE_BATCH_DELAY_MS");
            server = ServerProcess.Start(env);
            await server.WaitForOutputAsync("ready: serving chat", Start);
            await using var reader = await GroupSendStream.LoginAsync(port, group.Members[0].Name, "reader");
            var stored = group.CheckStored(await GroupSendStream.AllEntriesAsync(reader, group.GroupId));
            // Every entry the writer took was answered before the connections closed: what is stored was answered.
            foreach (var (key, (_, content)) in group.Sent)
                Assert.True(group.Answered.ContainsKey(key) || !stored.ContainsKey(content), $"{key} is stored but was never answered");
            Assert.All(group.Refused.Values, code => Assert.Equal("SERVER_BUSY", code));
            var drained = Regex.Match(stopLog, @"drained before closing connections: \d+ queued message\(s\) \(0 not stored\) and (\d+) queued group entr");
            Assert.True(drained.Success, "the drain line is logged:\n" + stopLog);
            Assert.True(int.Parse(drained.Groups[1].Value) >= 1, "group sends were queued at the stop: " + drained.Value);
            await group.ResendUnansweredAsync(stored);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
