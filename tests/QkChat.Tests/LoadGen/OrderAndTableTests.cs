using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.LoadGen.Scenarios;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>In-order delivery per sender, per-action figures, and the table by concurrency level.</summary>
public sealed class OrderAndTableTests
{
    [Fact]
    public void Order_is_checked_per_sender()
    {
        var order = new OrderCheck();
        Assert.True(order.Arrived(senderId: 1, messageId: 10));
        Assert.True(order.Arrived(2, 5));     // another sender's lower id is fine
        Assert.True(order.Arrived(1, 12));
        Assert.False(order.Arrived(1, 11));   // below 12 from the same sender
        Assert.True(order.Arrived(2, 6));
        Assert.True(order.Arrived(1, 13));    // after a late one, the sequence carries on from the highest
        Assert.Equal(1, order.OutOfOrder);
    }

    [Fact]
    public void The_ledger_counts_out_of_order_pushes_and_knows_the_last_id_for_mark_read()
    {
        var ledger = new DeliveryLedger();
        Assert.Equal(0, ledger.LastArrived);
        foreach (long id in new long[] { 1, 2, 4, 3, 5 }) ledger.Sent(id);
        Assert.True(ledger.Arrived(1, 7));
        Assert.True(ledger.Arrived(2, 7));
        Assert.True(ledger.Arrived(4, 7));
        Assert.True(ledger.Arrived(3, 7));   // delivered, but out of order
        Assert.False(ledger.Arrived(3, 7));  // a duplicate is not out of order a second time
        Assert.True(ledger.Arrived(5, 7));
        Assert.Equal((1L, 1L, 5L, 0), (ledger.OutOfOrder, ledger.Duplicates, ledger.Delivered, ledger.Awaiting));
        Assert.Equal(5, ledger.LastArrived);
    }

    [Fact]
    public void Action_figures_merge_over_workers()
    {
        var a = new ActionStats();
        a.Record("send_message", 1000, null, inWindow: true);
        a.Record("send_message", 3000, null, inWindow: false);
        a.Record("send_message", 0, "NOT_FRIENDS", inWindow: true);
        a.Record("login", 40_000, null, inWindow: false);
        var b = new ActionStats();
        b.Record("send_message", 2000, null, inWindow: true);
        b.Record("get_conversations", 500, "CLIENT_TIMEOUT", inWindow: true);

        Dictionary<string, ActionResult> merged = ActionResult.Merge([a.ToResults(), b.ToResults(), null]);
        ActionResult send = merged["send_message"];
        send.Finish(durationS: 2);
        Assert.Equal((4L, 3L, 3L, 2L, 1.0), (send.Requests, send.Ok, send.AnsweredWindow, send.OkWindow, send.PerS));
        Assert.Equal(new Dictionary<string, long> { ["NOT_FRIENDS"] = 1 }, send.Errors);
        Assert.Equal(2, send.LatencyUs!.Count);   // only OK answers inside the window are timed
        ActionResult login = merged["login"];
        login.Finish(2);
        Assert.Equal(1, login.LatencyUs!.Count);  // logins are timed over the whole run (they happen in the ramp)
        Assert.Equal(1, merged["get_conversations"].ErrorCount);
    }

    private static RunResult Level(int users, double successPercent, bool passed, bool withChat = true)
    {
        var login = new ActionResult { Requests = users, Ok = users, LatencyUs = new LatencySummary { Count = users, P50 = 5_000, P99 = 40_000, Mean = 8_000 } };
        var send = new ActionResult { Requests = 10 * users, Ok = 10 * users, LatencyUs = new LatencySummary { Count = 10 * users, P50 = 2_000, P99 = 9_500, Mean = 2_500 } };
        return new RunResult
        {
            Scenario = "chat", Target = "127.0.0.1:8080", Connections = users, DurationS = 10, RampUpS = 5,
            Actions = new() { ["login"] = login, ["send_message"] = send },
            Success = new SuccessRate { Requests = 21 * users, Ok = 21 * users, Percent = successPercent },
            Chat = withChat ? new ChatResult { RatePerUser = 1, SentPerS = users, DeliveredPerS = users } : null,
            Generator = new GeneratorCost { PerMessageUs = 26.4 },
            Passed = passed, ExitCode = passed ? 0 : 4,
        };
    }

    [Fact]
    public void The_table_has_a_column_per_level_and_the_original_rows()
    {
        string table = LevelTable.Markdown([Level(2000, 100, true), Level(5000, 99.995, true), Level(10_000, 70, false)]);
        string[] lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("| concurrent users | 2,000 | 5,000 | 10,000 |", lines);
        Assert.Contains("|---|---:|---:|---:|", lines);
        Assert.Contains("| requests | 42,000 | 105,000 | 210,000 |", lines);
        Assert.Contains("| login response | 5 ms / 40 ms / 8 ms | 5 ms / 40 ms / 8 ms | 5 ms / 40 ms / 8 ms |", lines);
        Assert.Contains("| send response | 2 ms / 9.5 ms / 2.5 ms | 2 ms / 9.5 ms / 2.5 ms | 2 ms / 9.5 ms / 2.5 ms |", lines);
        Assert.Contains("| success rate | 100 % | 99.995 % | 70 % |", lines);
        Assert.Contains("| generator CPU per message | 26.4 µs | 26.4 µs | 26.4 µs |", lines);
        Assert.Contains("| verdict | passed | passed | failed (exit 4) |", lines);
        // Every table row has one cell per level.
        Assert.All(lines.Where(l => l.StartsWith('|')), l => Assert.Equal(5, l.Count(c => c == '|')));
    }

    [Fact]
    public void Cells_a_scenario_does_not_measure_are_a_dash()
    {
        var heartbeat = new RunResult { Scenario = "heartbeat", Target = "t", Connections = 100, RoundTripsPerS = 5000, Passed = true };
        string table = LevelTable.Markdown([heartbeat]);
        Assert.Contains("| login response | - |", table, StringComparison.Ordinal);
        Assert.Contains("| send response | - |", table, StringComparison.Ordinal);
        Assert.Contains("| round trips/s | 5,000 |", table, StringComparison.Ordinal);
        Assert.Equal("", LevelTable.Markdown([]));
    }
}
