using System.Text.Json;
using QkChat.IntegrationTests.Admin;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>issue 18 (operability): the group writer's figures on /metrics and the dashboard, as the message writer's.</summary>
public sealed class GroupMetricsTests
{
    private static double Value(Dictionary<string, double> metrics, string name) =>
        metrics.TryGetValue(name, out double v) ? v : throw new Xunit.Sdk.XunitException($"{name} is not on /metrics");

    [Fact(Timeout = 60_000)]
    public async Task Group_writer_figures_appear_on_metrics_and_move_with_group_sends()
    {
        await using var h = await AdminHarness.StartAsync();
        var owner = await h.Chat.MemberAsync();
        var b = await h.Chat.MemberAsync();
        var c = await h.Chat.MemberAsync();
        await h.Chat.BefriendAllAsync(owner, b, c);
        long group = await GroupKit.CreateAsync(owner, "counted", b, c);

        var before = AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);
        string[] names = ["qkchat_group_entries_stored_total", "qkchat_group_entries_batches_total", "qkchat_group_entries_queued",
            "qkchat_group_entries_failed_total", "qkchat_group_entries_pushed_total", "qkchat_group_entries_unpushed_total",
            "qkchat_messages_failed_total"];
        foreach (string name in names) Assert.Equal(0, Value(before, name));

        for (int i = 0; i < 5; i++) await GroupKit.SendOk(owner.Device, group, $"entry {i}");
        var after = AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);
        Assert.Equal(5, Value(after, "qkchat_group_entries_stored_total"));
        Assert.InRange(Value(after, "qkchat_group_entries_batches_total"), 1, 5);
        Assert.Equal(0, Value(after, "qkchat_group_entries_queued"));
        Assert.Equal(0, Value(after, "qkchat_group_entries_failed_total"));
        // Each entry goes to b's and c's device, not to the sending one: two pushes each.
        Assert.Equal(10, Value(after, "qkchat_group_entries_pushed_total"));
        Assert.Equal(0, Value(after, "qkchat_group_entries_unpushed_total"));
        Assert.True(Value(after, "qkchat_batch_commit_seconds_count{batcher=\"groups\"}") >= 1);
        Assert.Equal(0, Value(after, "qkchat_messages_stored_total")); // group entries are not counted as messages

        // The dashboard's data carries group entries per second; some second after the sends shows them.
        await Wait.UntilAsync(async () =>
        {
            using var status = JsonDocument.Parse((await h.GetAsync("api/dashboard")).Body);
            return status.RootElement.GetProperty("samples").EnumerateArray().Any(s => s.GetProperty("group_entries_per_s").GetDouble() > 0);
        }, "a dashboard sample showing the group entries");
    }
}
