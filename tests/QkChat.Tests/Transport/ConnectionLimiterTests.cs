using System.Net;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

public sealed class ConnectionLimiterTests
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.1"), B = IPAddress.Parse("127.0.0.2");

    [Fact]
    public void Limits_hold_in_all_and_per_address_and_release_gives_room_back()
    {
        var limiter = new ConnectionLimiter(maxClients: 3, maxPerIp: 2);
        Assert.True(limiter.TryAcquire(A, out _));
        Assert.True(limiter.TryAcquire(A, out _));
        Assert.False(limiter.TryAcquire(A, out var reason));
        Assert.Equal(RejectReason.MaxClientsPerIp, reason);
        Assert.True(limiter.TryAcquire(B, out _));
        Assert.False(limiter.TryAcquire(B, out reason));
        Assert.Equal(RejectReason.MaxClients, reason);
        limiter.Release(A);
        Assert.True(limiter.TryAcquire(B, out _));
        Assert.Equal(3, limiter.Total);
    }

    [Fact]
    public void Many_cycles_leave_nothing_behind()
    {
        var limiter = new ConnectionLimiter(10, 10);
        for (int i = 0; i < 100_000; i++)
        {
            Assert.True(limiter.TryAcquire(A, out _));
            limiter.Release(A);
        }
        Assert.Equal(0, limiter.Total);
        Assert.Equal(0, limiter.CountFor(A));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("::ffff:127.0.0.1"), out _));
        Assert.Equal(1, limiter.CountFor(A)); // an IPv4-mapped address counts as the IPv4 one
    }

    [Fact]
    public void Ipv6_addresses_count_per_64_prefix_by_default()
    {
        var limiter = new ConnectionLimiter(maxClients: 100, maxPerIp: 2);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::1"), out _));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), out _));
        // A third address of the same /64 is the same subscriber.
        Assert.False(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff"), out var reason));
        Assert.Equal(RejectReason.MaxClientsPerIp, reason);
        // The neighbouring /64 is someone else.
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:3::1"), out _));
        // Releasing through another address of the prefix gives the room back.
        limiter.Release(IPAddress.Parse("2001:db8:1:2::9"));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::7"), out _));
        Assert.Equal(2, limiter.CountFor(IPAddress.Parse("2001:db8:1:2::")));
    }

    [Fact]
    public void The_ipv6_prefix_is_configurable_and_ipv4_is_unaffected_by_it()
    {
        var limiter = new ConnectionLimiter(maxClients: 100, maxPerIp: 1, ipv6PrefixLength: 48);
        Assert.Equal("2001:db8:1::/48", limiter.KeyOf(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::1"), out _));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:ffff::1"), out _)); // same /48
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:2::1"), out _));
        Assert.True(limiter.TryAcquire(A, out _));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("::ffff:127.0.0.1"), out _)); // the same IPv4 client
        Assert.True(limiter.TryAcquire(B, out _));

        var exact = new ConnectionLimiter(maxClients: 100, maxPerIp: 1, ipv6PrefixLength: 128);
        Assert.True(exact.TryAcquire(IPAddress.Parse("2001:db8:1:2::1"), out _));
        Assert.True(exact.TryAcquire(IPAddress.Parse("2001:db8:1:2::2"), out _));
    }
}
