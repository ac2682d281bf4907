using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

public sealed class ReactorPlacementTests
{
    [Fact]
    public async Task A_burst_of_connections_is_spread_evenly_and_the_spread_holds_after_churn()
    {
        await using var server = InProcessServer.Start(t => t.Reactors = 2);
        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => server.ConnectAsync()));
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 100, "all open");
        Assert.All(server.Engine.Reactors, r => Assert.Equal(50, r.ConnectionCount));

        foreach (var c in clients.Take(60)) c.Dispose();
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 40, "60 closed");
        var more = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => server.ConnectAsync()));
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 100, "refilled");
        Assert.All(server.Engine.Reactors, r => Assert.Equal(50, r.ConnectionCount));
        foreach (var c in clients.Skip(60).Concat(more)) c.Dispose();
    }

    [Fact]
    public async Task Pinned_reactors_run_each_on_its_own_cpu()
    {
        await using var server = InProcessServer.Start(t => { t.Reactors = 2; t.PinReactors = true; });
        await server.EventuallyAsync(() => server.Engine.Reactors.All(r => Volatile.Read(ref r.Stats.PinnedCpu) != -2), "reactors started");
        Assert.Equal([0, 1 % Environment.ProcessorCount], server.Engine.Reactors.Select(r => r.Stats.PinnedCpu));
    }
}
