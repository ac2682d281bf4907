using QkChat.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// issue 19 point 4 under a chat run (<see cref="ClusterChatRun"/>): a node killed with SIGKILL mid-stream, and Redis
/// restarted without its data mid-stream. Afterwards every acknowledged message has reached its receiver (pushes,
/// offline batches and a client's catch-up sync together), once per connection and in order, and none is stored twice.
/// </summary>
public sealed class NodeFailureChatTests
{
    private const int SIGKILL = 9;
    private const int SIGSTOP = 19;

    /// <summary>protocol.md §12: a killed node's devices count offline, and friends get `presence`, within 30 s.</summary>
    private static readonly TimeSpan OfflineBound = TimeSpan.FromSeconds(30);

    // Three node starts (~10-20 s each on the loaded 2-core box), two stretches of ~300 acknowledged sends, the 15 s
    // lease lapsing, ten logins with their syncs and the final checks.
    [Fact(Timeout = 420_000)]
    public async Task After_SIGKILL_of_a_node_mid_stream_every_acknowledged_message_reaches_its_receiver_once()
    {
        await using var kit = await ClusterKit.StartAsync(3);
        const int K = 0;
        // Ten users on the node to kill: eight with their friend on another node, one pair both there; the others' chat
        // crosses between the live nodes or stays on one.
        var pairs = Enumerable.Repeat((K, 1), 4).Concat(Enumerable.Repeat((K, 2), 4))
            .Append((K, K)).Concat(Enumerable.Repeat((1, 2), 3)).Append((1, 1)).Append((2, 2));
        var run = await ClusterChatRun.StartAsync(kit, pairs);
        var onK = run.Users.Where(u => u.Node == K).ToList();
        await Wait.UntilAsync(() => run.Acknowledged >= 300, "300 acknowledged sends before the kill", TimeSpan.FromSeconds(120));

        // Stopped first, so that every sender on K has a send in flight that will never be answered (stored or not),
        // then killed: no goodbye, no lease release.
        kit.Nodes[K].Signal(SIGSTOP);
        // A send that timed out before the stop (a slow answer on the loaded box) leaves its user waiting for the
        // reconnect with that send unanswered, which is what the stop gives the others: either counts.
        await Wait.UntilAsync(() => onK.All(u => u.InFlight || !u.Unanswered.IsEmpty),
            "a send in flight (or already unanswered) from every user on the stopped node", TimeSpan.FromSeconds(60));
        run.MarkDisruption();
        long killedAt = Environment.TickCount64;
        kit.Nodes[K].Signal(SIGKILL);
        await kit.Nodes[K].WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Every friend on a live node hears `offline` within the bound; then it catches up with what the dead node
        // stored but never pushed to it.
        var watchers = onK.Select(u => u.Peer).Where(p => p.Node != K).ToList();
        foreach (var watcher in watchers)
        {
            var left = OfflineBound - TimeSpan.FromMilliseconds(Environment.TickCount64 - killedAt);
            try
            {
                await watcher.PeerOffline.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"user {watcher.Id} on node {watcher.Node} had no presence offline for {watcher.Peer.Id} within 30 s of the SIGKILL");
            }
        }
        TestContext.Current.SendDiagnosticMessage($"presence offline at every friend {(Environment.TickCount64 - killedAt) / 1000.0:0.0} s after SIGKILL");
        foreach (var watcher in watchers) await run.CatchUpAsync(watcher);

        // The dead node's users come back on the live nodes (the same client_id), catch up, and resend what was unanswered.
        int i = 0;
        foreach (var user in onK) await run.ReconnectAsync(user, 1 + i++ % 2);
        Assert.All(onK, u => Assert.NotEmpty(u.Unanswered));

        int before = run.Acknowledged;
        await Wait.UntilAsync(() => run.Acknowledged >= before + 300, "300 more acknowledged sends after the reconnects", TimeSpan.FromSeconds(120));
        await run.StopAsync();
        await run.VerifyAsync(TimeSpan.FromSeconds(60));
        TestContext.Current.SendDiagnosticMessage(run.Describe());
    }

    // Three node starts, a Redis restart and the nodes' own recovery, two stretches of ~300 acknowledged sends.
    [Fact(Timeout = 420_000)]
    public async Task After_a_Redis_restart_mid_stream_nothing_acknowledged_is_lost_and_nodes_recover_by_themselves()
    {
        int redisPort = ServerProcess.FreePort();
        var redis = await StartRedisAsync(redisPort);
        try
        {
            await using var kit = await ClusterKit.StartAsync(3, redisPort);
            // Every conversation crosses nodes: all of it goes through Redis.
            var pairs = Enumerable.Repeat((0, 1), 3).Concat(Enumerable.Repeat((1, 2), 3)).Concat(Enumerable.Repeat((2, 0), 3));
            var run = await ClusterChatRun.StartAsync(kit, pairs);
            await Wait.UntilAsync(() => run.Acknowledged >= 300, "300 acknowledged sends before the restart", TimeSpan.FromSeconds(120));

            run.MarkDisruption();
            redis.Signal(ServerProcess.SIGTERM); // started with --save '': the data is gone
            await redis.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await redis.DisposeAsync();
            redis = await StartRedisAsync(redisPort);

            // The nodes recover by themselves: every device is in the registry again, every node listens on its channel
            // again, and each reports the gap.
            foreach (var user in run.Users) await kit.WaitRegisteredAsync(user.Id, "phone", kit.NodeIdOf(user.Node));
            var server = kit.Redis.GetServer(kit.Redis.GetEndPoints()[0]);
            for (int n = 0; n < 3; n++)
            {
                string channel = "qk:frames:{" + kit.NodeIdOf(n) + "}";
                await Wait.UntilAsync(async () => (long)((RedisResult[])(await server.ExecuteAsync("PUBSUB", "NUMSUB", channel))!)[1] >= 1,
                    $"node {n} subscribed to {channel} again", TimeSpan.FromSeconds(60));
                int node = n;
                await Wait.UntilAsync(async () => await kit.MetricAsync(node, "qkchat_route_resubscribes_total") >= 1,
                    $"node {n} counted the resubscription", TimeSpan.FromSeconds(60));
                double gap = await kit.MetricAsync(n, "qkchat_route_subscription_lost_seconds_total");
                Assert.True(gap > 0, $"node {n} reported no time without its subscription");
                TestContext.Current.SendDiagnosticMessage($"node {n}: {gap:0.000} s without its subscription, " +
                    $"{await kit.MetricAsync(n, "qkchat_route_registry_restored_total")} device(s) re-registered, " +
                    $"{await kit.MetricAsync(n, "qkchat_node_lease_retaken_total")} lease retaken, " +
                    $"{await kit.MetricAsync(n, "qkchat_route_rounds_failed_total")} round(s) failed");
            }

            // Pushes published while Redis was away are lost (at-most-once); a client catches up after the outage.
            foreach (var user in run.Users) await run.CatchUpAsync(user);
            int before = run.Acknowledged;
            await Wait.UntilAsync(() => run.Acknowledged >= before + 300, "300 more acknowledged sends after the restart", TimeSpan.FromSeconds(120));
            await run.StopAsync();
            await run.VerifyAsync(TimeSpan.FromSeconds(60));
            TestContext.Current.SendDiagnosticMessage(run.Describe());
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static async Task<ExternalProcess> StartRedisAsync(int port)
    {
        var redis = ExternalProcess.Start("redis-server", ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            workingDirectory: Path.GetTempPath());
        await redis.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(30));
        return redis;
    }
}
