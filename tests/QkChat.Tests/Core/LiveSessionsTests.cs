using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

public sealed class LiveSessionsTests
{
    private static InMemoryConnection NewConnection() =>
        new(new Dispatcher(new ChatOptions(), new ActionRouter(), NullLogger.Instance));

    [Fact(Timeout = 60_000)]
    public async Task A_device_registered_while_the_last_one_leaves_stays_reachable()
    {
        var live = new LiveSessions();
        using var a = NewConnection();
        using var b = NewConnection();
        // Many rounds of "the last device leaves" racing "another device arrives" for one user.
        for (int round = 0; round < 2_000; round++)
        {
            live.Register(7, "old", a.Connection);
            var leave = Task.Run(() => live.Unregister(7, "old", a.Connection), TestContext.Current.CancellationToken);
            var arrive = Task.Run(() => live.Register(7, "new", b.Connection), TestContext.Current.CancellationToken);
            await Task.WhenAll(leave, arrive);
            Assert.Same(b.Connection, live.Find(7, "new"));
            Assert.True(live.IsOnline(7));
            Assert.Equal(1, live.DeviceCount);
            live.Unregister(7, "new", b.Connection);
            Assert.False(live.IsOnline(7));
            Assert.Equal(0, live.DeviceCount);
        }
    }

    [Fact]
    public void A_takeover_returns_the_old_connection_and_its_late_unregister_changes_nothing()
    {
        var live = new LiveSessions();
        using var first = NewConnection();
        using var second = NewConnection();
        Assert.Null(live.Register(1, "phone", first.Connection));
        Assert.Same(first.Connection, live.Register(1, "phone", second.Connection));
        live.Unregister(1, "phone", first.Connection);
        Assert.Same(second.Connection, live.Find(1, "phone"));
        Assert.Equal(1, live.DeviceCount);
        Assert.Equal([(1u, "phone")], live.Devices());
    }
}
