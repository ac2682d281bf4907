using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>The local delivery port (src/QkChat.Core/Routing/LocalDelivery.cs) over this node's LiveSessions.</summary>
public sealed class LocalDeliveryTests
{
    private static InMemoryConnection NewConnection() =>
        new(new Dispatcher(new ChatOptions(), new ActionRouter(), NullLogger.Instance));

    private static OutboundFrame Push() => Dispatcher.CreatePush("test_push", 0, static (w, _) => w.WriteNumber("n"u8, 1));

    /// <summary>Runs what was posted to the connection's reactor; returns the frames it now has queued.</summary>
    private static int Received(InMemoryConnection c)
    {
        c.RunPending();
        return c.DiscardOutput();
    }

    [Fact]
    public void A_user_push_reaches_every_device_but_the_excepted_one()
    {
        var delivery = new LocalDelivery(new LiveSessions());
        using var phone = NewConnection();
        using var laptop = NewConnection();
        Assert.Null(delivery.Attach(1, "phone", phone.Connection));
        Assert.Null(delivery.Attach(1, "laptop", laptop.Connection));

        Assert.Equal(1, delivery.ToUser(1, Push(), except: phone.Connection));
        Assert.Equal(0, Received(phone));
        Assert.Equal(1, Received(laptop));

        Assert.Equal(2, delivery.ToUser(1, Push()));
        Assert.Equal(1, Received(phone));
        Assert.Equal(1, Received(laptop));

        Assert.Equal(0, delivery.ToUser(2, Push()));
        Assert.True(delivery.IsOnline(1));
        Assert.True(delivery.IsOnline(1, "laptop"));
        Assert.False(delivery.IsOnline(2));
        Assert.Equal(["laptop", "phone"], delivery.DevicesOf(1).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_push_to_a_set_of_users_reaches_each_of_their_devices_once()
    {
        var delivery = new LocalDelivery(new LiveSessions());
        using var a = NewConnection();
        using var b1 = NewConnection();
        using var b2 = NewConnection();
        delivery.Attach(1, "a", a.Connection);
        delivery.Attach(2, "b1", b1.Connection);
        delivery.Attach(2, "b2", b2.Connection);

        Assert.Equal(3, delivery.ToUsers([1, 2, 3], Push(), droppable: true));
        Assert.Equal(1, Received(a));
        Assert.Equal(1, Received(b1));
        Assert.Equal(1, Received(b2));
        Assert.Equal(0, delivery.ToUsers([], Push()));
    }

    [Fact]
    public void A_message_reaches_a_device_draining_its_offline_queue_once()
    {
        var delivery = new LocalDelivery(new LiveSessions());
        using var phone = NewConnection();
        delivery.Attach(1, "phone", phone.Connection);
        ((Session)phone.Connection.State!).OfflineSeen = [];

        Assert.Equal(1, delivery.ToUser(1, Push(), messageId: 42));
        Assert.Equal(1, delivery.ToUser(1, Push(), messageId: 42));
        Assert.Equal(1, Received(phone));
    }

    [Fact]
    public void A_kick_takes_the_device_offline_and_a_second_sign_in_replaces_the_first()
    {
        var delivery = new LocalDelivery(new LiveSessions());
        using var first = NewConnection();
        using var second = NewConnection();
        delivery.Attach(1, "phone", first.Connection);
        Assert.Same(first.Connection, delivery.Attach(1, "phone", second.Connection));
        // The replaced connection's late close forgets nothing that is no longer its own.
        delivery.Detach(1, "phone", first.Connection);
        Assert.True(delivery.IsOnline(1, "phone"));

        Assert.True(delivery.Kick(1, "phone", "revoked"));
        Assert.False(delivery.IsOnline(1));
        Assert.False(delivery.Kick(1, "phone", "revoked"));
        Assert.Empty(delivery.DevicesOf(1));
    }
}
