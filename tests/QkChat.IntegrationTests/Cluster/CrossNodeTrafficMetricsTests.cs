using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19 point 5: the dashboard and /metrics show the cross-node traffic. Messages sent on one node to a device on
/// another show as frames published per second on the sender's node and received per second on the receiver's, in
/// the dashboard's samples and in the qkchat_route_frames_* counters.
/// </summary>
public sealed partial class CrossNodeTrafficMetricsTests
{
    [GeneratedRegex(@"admin listener on (http://127\.0\.0\.1:\d+/)")]
    private static partial Regex AdminLine();

    [Fact(Timeout = 180_000)] // two server processes on a loaded 2-core box
    public async Task Messages_between_nodes_show_as_published_on_one_and_received_on_the_other()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var receiver = await kit.LoginAsync(1, xName, x, "phone");
        var sender = await kit.LoginAsync(0, sName, s, "laptop");
        using var senderAdmin = new HttpClient { BaseAddress = new Uri(AdminLine().Match(kit.Nodes[0].Output).Groups[1].Value) };
        using var receiverAdmin = new HttpClient { BaseAddress = new Uri(AdminLine().Match(kit.Nodes[1].Output).Groups[1].Value) };

        // A message every 100 ms (at most) until both dashboards have seen a second with traffic (the sampler ticks once a
        // second).
        bool outSeen = false, inSeen = false;
        int sent = 0;
        long lastSent = long.MinValue;
        await Wait.UntilAsync(async () =>
        {
            if (Environment.TickCount64 - lastSent >= 100)
            {
                await SendOk(sender, x, $"crossing {sent++}");
                lastSent = Environment.TickCount64;
            }
            outSeen = outSeen || await AnySampleAsync(senderAdmin, "route_out_per_s");
            inSeen = inSeen || await AnySampleAsync(receiverAdmin, "route_in_per_s");
            return outSeen && inSeen;
        }, "a cross-node rate on both dashboards", TimeSpan.FromSeconds(60));
        for (int i = 0; i < sent; i++) await Push(receiver, PushNames.Message);

        // /metrics: the sender's node published at least one frame per message, the receiver's received as many.
        Assert.True(await CounterAsync(senderAdmin, "qkchat_route_frames_published_total") >= sent);
        Assert.True(await CounterAsync(receiverAdmin, "qkchat_route_frames_received_total") >= sent);
        // Each frame named the one receiver: as many crossing pushes as frames (the push rate bench/loopback.sh reports).
        Assert.Equal(await CounterAsync(receiverAdmin, "qkchat_route_frames_received_total"),
            await CounterAsync(receiverAdmin, "qkchat_route_pushes_received_total"));
        // Each dashboard names its own node.
        Assert.Equal(kit.NodeIdOf(0), await NodeIdAsync(senderAdmin));
        Assert.Equal(kit.NodeIdOf(1), await NodeIdAsync(receiverAdmin));
    }

    private static async Task<bool> AnySampleAsync(HttpClient admin, string key)
    {
        using var doc = JsonDocument.Parse(await admin.GetStringAsync("api/dashboard"));
        return doc.RootElement.GetProperty("samples").EnumerateArray().Any(s => s.GetProperty(key).GetDouble() > 0);
    }

    private static async Task<int> NodeIdAsync(HttpClient admin)
    {
        using var doc = JsonDocument.Parse(await admin.GetStringAsync("api/dashboard"));
        return doc.RootElement.GetProperty("node_id").GetInt32();
    }

    private static async Task<double> CounterAsync(HttpClient admin, string name)
    {
        string text = await admin.GetStringAsync("metrics");
        var line = text.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
