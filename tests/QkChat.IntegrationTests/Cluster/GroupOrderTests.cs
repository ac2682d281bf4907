using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19: "A group whose members are spread over three nodes: every member gets every entry once, in seq order",
/// with senders on every node writing into the group at once (docs/cluster.md, "Group order"). Each node has its own
/// group writer, so consecutive seqs are committed on different nodes and travel different paths (local, and each
/// sending node's channel); the receiving node puts them back in seq order.
/// </summary>
public sealed class GroupOrderTests
{
    // Three processes start one after the other on a loaded 2-core box (each ~5-10 s), then 300 sends.
    private const int ClusterTimeout = 240_000;

    private const int PerSender = 50;

    [Fact(Timeout = ClusterTimeout)]
    public async Task Members_on_three_nodes_get_every_entry_of_concurrent_senders_on_all_nodes_once_in_seq_order()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        var users = new List<(uint Id, string Name)>();
        for (int i = 0; i < 6; i++) users.Add(await kit.CreateUserAsync());
        await kit.MakeFriendsAsync([.. users.Select(u => u.Id)]);
        // Two members per node; every member sends too.
        var devices = new List<ChatClient>();
        for (int i = 0; i < users.Count; i++) devices.Add(await kit.LoginAsync(i % 3, users[i].Name, users[i].Id, "phone"));
        var created = await Ok(devices[0].CreateGroupAsync("order across nodes", [.. users.Skip(1).Select(u => (long)u.Id)]));
        long group = created.GetProperty("group_id").GetInt64();

        // Every member sends PerSender entries, one after the other; the six run at once, so the group's seqs alternate
        // between the three nodes' writers.
        var sent = await Task.WhenAll(devices.Select(async device =>
        {
            var mine = new List<long>(PerSender);
            for (int i = 0; i < PerSender; i++)
                mine.Add((await Ok(device.SendGroupMessageAsync(group, $"entry {i}"))).GetProperty("seq").GetInt64());
            return mine;
        }));
        var all = sent.SelectMany(s => s).Order().ToList();
        Assert.Equal(all.Count, all.Distinct().Count());

        for (int d = 0; d < devices.Count; d++)
        {
            // A device is not pushed its own entries (it has their `sent`): it gets all the others, each once, in seq order.
            var expected = all.Except(sent[d]).ToList();
            var got = new List<long>(expected.Count);
            while (got.Count < expected.Count)
            {
                var push = (await Push(devices[d], PushNames.GroupMessage)).Data!.Value;
                if (push.GetProperty("group_id").GetInt64() == group) got.Add(push.GetProperty("seq").GetInt64());
            }
            Assert.True(expected.SequenceEqual(got),
                $"device {d} on node {d % 3}: pushes out of seq order or not each once; first difference at index " +
                $"{expected.Zip(got).TakeWhile(p => p.First == p.Second).Count()}: expected ...{string.Join(",", expected.Skip(Math.Max(0, FirstDiff(expected, got) - 2)).Take(5))}, " +
                $"got ...{string.Join(",", got.Skip(Math.Max(0, FirstDiff(expected, got) - 2)).Take(5))}");
        }

        // Nothing after the last: one more entry from node 0 is the next push everywhere else (a duplicate would come first).
        long marker = (await Ok(devices[0].SendGroupMessageAsync(group, "marker"))).GetProperty("seq").GetInt64();
        for (int d = 1; d < devices.Count; d++)
            Assert.Equal(marker, (await Push(devices[d], PushNames.GroupMessage)).Data!.Value.GetProperty("seq").GetInt64());
        await NoPush(devices[0], PushNames.GroupMessage);
        // Nothing was given up on (a skipped gap would be a jump in seq, which the lists above would show as well).
        for (int n = 0; n < 3; n++)
        {
            Assert.True(await kit.ListsMetricAsync(n, "qkchat_group_order_gap_fills_total"), $"node {n}: no qkchat_group_order_gap_fills_total on /metrics");
            Assert.Equal(0, await kit.MetricAsync(n, "qkchat_group_order_skipped_total"));
        }
    }

    private static int FirstDiff(List<long> a, List<long> b) => a.Zip(b).TakeWhile(p => p.First == p.Second).Count();
}
