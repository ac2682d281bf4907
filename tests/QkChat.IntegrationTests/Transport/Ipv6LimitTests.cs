using System.Net;
using System.Net.Sockets;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Transport;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>
/// What loopback can show of the IPv6 keying (issue 16 point 7): ::1 is the only IPv6 source address a test gets,
/// so this checks that a real IPv6 connection is counted under its /64 key and refused past the per-address cap;
/// ClientAddressTests and ConnectionLimiterTests cover prefixes and neighbours.
/// </summary>
public sealed class Ipv6LimitTests
{
    [Fact(Timeout = 60_000)]
    public async Task Ipv6_loopback_connections_count_under_their_prefix_and_are_capped()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = InProcessServer.Start(t =>
        {
            t.Address = IPAddress.IPv6Loopback;
            t.MaxClientsPerIp = 2;
        });
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(s);
                await s.ConnectAsync(IPAddress.IPv6Loopback, server.Port, ct);
            }
            await server.EventuallyAsync(() => server.Rejections.Contains(RejectReason.MaxClientsPerIp), "the third connection refused");
            Assert.Equal("::/64", server.Engine.Limiter.KeyOf(IPAddress.IPv6Loopback));
            // Any address of ::/64 is the same client as ::1.
            Assert.Equal(2, server.Engine.Limiter.CountFor(IPAddress.Parse("::2")));
            Assert.Equal(0, server.Engine.Limiter.CountFor(IPAddress.Parse("0:0:0:1::1")));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
        await server.EventuallyAsync(() => server.Engine.Limiter.Total == 0, "every slot released");
    }
}
