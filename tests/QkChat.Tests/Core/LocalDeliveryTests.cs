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

    private static OutboundFrame Push() => Frames.CreatePush("test_push", 0, static (w, _) => w.WriteNumber("n"u8, 1));

    /// <summary>The connection's device as Core knows it, signed in as (<paramref name="userId"/>, <paramref name="clientId"/>).</summary>
    private static Session Device(InMemoryConnection c, uint userId, string clientId)
    {
        var session = (Session)c.Connection.State!;
        session.LoggedIn = true;
        session.UserId = userId;
        session.ClientId = clientId;
        return session;
    }

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
        var phoneDevice = Device(phone, 1, "phone");
        Assert.Null(delivery.Attach(phoneDevice));
        Assert.Null(delivery.Attach(Device(laptop, 1, "laptop")));

        Assert.Equal(1, delivery.ToUser(1, Push(), except: phoneDevice));
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
        delivery.Attach(Device(a, 1, "a"));
        delivery.Attach(Device(b1, 2, "b1"));
        delivery.Attach(Device(b2, 2, "b2"));

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
        var device = Device(phone, 1, "phone");
        delivery.Attach(device);
        // What messaging sets while the device drains its offline queue: each message id once.
        device.MessageFilter = new OncePerId();

        Assert.Equal(1, delivery.ToUser(1, Push(), messageId: 42));
        Assert.Equal(1, delivery.ToUser(1, Push(), messageId: 42));
        Assert.Equal(1, Received(phone));
        // Without a filter (the drain is over) every push goes out.
        device.MessageFilter = null;
        Assert.Equal(1, delivery.ToUser(1, Push(), messageId: 42));
        Assert.Equal(1, Received(phone));
    }

    [Fact]
    public void A_push_to_the_requesting_device_reaches_only_it()
    {
        var delivery = new LocalDelivery(new LiveSessions());
        using var phone = NewConnection();
        using var laptop = NewConnection();
        var phoneDevice = Device(phone, 1, "phone");
        delivery.Attach(phoneDevice);
        delivery.Attach(Device(laptop, 1, "laptop"));

        delivery.ToDevice(phoneDevice, Push());
        Assert.Equal(1, Received(phone));
        Assert.Equal(0, Received(laptop));
    }

    private sealed class OncePerId : IMessageFilter
    {
        private readonly HashSet<long> _seen = [];

        public bool Admit(long messageId) => _seen.Add(messageId);
    }

    [Fact]
    public void A_kick_takes_the_device_offline_and_a_second_sign_in_replaces_the_first()
    {
        var delivery = new LocalDelivery(new LiveSessions());
        using var first = NewConnection();
        using var second = NewConnection();
        var firstDevice = Device(first, 1, "phone");
        delivery.Attach(firstDevice);
        Assert.Same(firstDevice, delivery.Attach(Device(second, 1, "phone")));
        // The replaced session's late close forgets nothing that is no longer its own.
        delivery.Detach(firstDevice);
        Assert.True(delivery.IsOnline(1, "phone"));

        Assert.True(delivery.Kick(1, "phone", "revoked"));
        Assert.False(delivery.IsOnline(1));
        Assert.False(delivery.Kick(1, "phone", "revoked"));
        Assert.Empty(delivery.DevicesOf(1));
    }
}
