using QkChat.IntegrationTests.Admin;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Chat;

/// <summary>
/// Issue 22 point 3: the message writers' pipeline on /metrics (docs/observability.md): batches in flight, the
/// watermark's lag (messages minted and not released) and retries joined to their first send, read while a batch is
/// held on a row lock (<see cref="OutOfOrderCommit"/>) and after it is released.
/// </summary>
public sealed class MessageWriterMetricsTests
{
    private static readonly string[] Gauges = ["qkchat_messages_batches_in_flight", "qkchat_messages_unreleased", "qkchat_group_entries_batches_in_flight"];

    [Fact(Timeout = 120_000)] // a held lock and a few /metrics polls on a loaded 2-core box
    public async Task Batches_in_flight_the_unreleased_messages_and_joined_retries_show_on_metrics()
    {
        await using var h = await AdminHarness.StartAsync();
        await using var o = await OutOfOrderCommit.OnAsync(h.Chat);
        var before = AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body);
        foreach (string name in Gauges.Append("qkchat_messages_retries_joined_total"))
            Assert.True(before.ContainsKey(name), $"{name} is not on /metrics");
        foreach (string name in Gauges) Assert.Equal(0, AdminHarness.Sum(before, name));
        Assert.Equal(0, AdminHarness.Sum(before, "qkchat_messages_retries_joined_total"));

        await o.HoldAsync();
        await o.SendHeldFirstAsync();
        var retry = o.SendAsync("first", OutOfOrderCommit.HeldKey);
        var during = await Wait.ForAsync(async () => AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body),
            m => AdminHarness.Sum(m, "qkchat_messages_retries_joined_total") == 1, "the retry to join its first send");
        Assert.Equal(1, AdminHarness.Sum(during, "qkchat_messages_batches_in_flight"));
        Assert.Equal(1, AdminHarness.Sum(during, "qkchat_messages_unreleased")); // the retry has no id of its own

        await o.ReleaseHoldAsync();
        await Ok(o.First);
        await Ok(retry);
        // The gauges drop once the batch's bookkeeping ends, a moment after its answers went out.
        var after = await Wait.ForAsync(async () => AdminHarness.ParsePrometheus((await h.GetAsync("metrics")).Body),
            m => Gauges.All(name => AdminHarness.Sum(m, name) == 0), "the gauges to return to 0 after the release");
        Assert.Equal(1, AdminHarness.Sum(after, "qkchat_messages_retries_joined_total"));
    }
}
