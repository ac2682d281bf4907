using QkChat.IntegrationTests.Infrastructure;
using QkChat.Protocol;
using QkChat.Server.Cluster;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// A push to a device on another node must not be lost when the sender node's cached route of the receiver is dropped
/// while the route sender's round waits for Redis (a change notice about the receiver, or the ticker's sweep of expired
/// routes): the round took the route from the cache at its start and must still deliver by it (docs/cluster.md,
/// "Staleness"). CrossNodeTrafficMetricsTests lost one such push in a loaded CI run. Here change notices about both
/// users are published all the time, so rounds keep reading one user's route from Redis while the other's cached route
/// is dropped under them; nothing here may be lost, the receiver's device never moved.
/// </summary>
public sealed class RouteCacheRaceTests
{
    private const int Messages = 150;

    [Fact(Timeout = 240_000)] // two server processes and 150 sends on a loaded 2-core box
    public async Task Change_notices_during_a_round_never_lose_a_push_to_a_device_that_did_not_move()
    {
        await using var kit = await ClusterKit.StartAsync(2);
        var (x, xName) = await kit.CreateUserAsync();
        var (s, sName) = await kit.CreateUserAsync();
        await kit.MakeFriendsAsync(x, s);
        var receiver = await kit.LoginAsync(1, xName, x, "phone");
        var sender = await kit.LoginAsync(0, sName, s, "laptop");
        // The login's presence push from the sender reached the receiver: node 0 has read the receiver's route.
        await Push(receiver, PushNames.Presence);

        using var stop = new CancellationTokenSource();
        var subscriber = kit.Redis.GetSubscriber();
        // Notices about the receiver and about the sender in turn: each send's round reads the sender's route (its own
        // other devices get the message too) while a notice about the receiver may drop the receiver's cached route.
        byte[] aboutReceiver = RouteWire.Changed(15, [x]), aboutSender = RouteWire.Changed(15, [s]);
        var noise = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await subscriber.PublishAsync(ClusterDelivery.ChangedChannel, aboutReceiver);
                await subscriber.PublishAsync(ClusterDelivery.ChangedChannel, aboutSender);
            }
        });
        var sent = new List<long>();
        try
        {
            for (int i = 0; i < Messages; i++) sent.Add(await SendOk(sender, x, $"under notices {i}"));
        }
        finally
        {
            await stop.CancelAsync();
            await noise;
        }

        var got = new List<long>();
        for (int i = 0; i < Messages; i++) got.Add((await Push(receiver, PushNames.Message)).Data!.Value.GetProperty("message_id").GetInt64());
        Assert.Equal(sent.Order(), got.Order());
        await NoPush(receiver, PushNames.Message);
    }
}
