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
}
