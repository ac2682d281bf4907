using System.Net;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

/// <summary>The key every per-address limit counts under (issue 16 point 7).</summary>
public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.7", 64, "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", 64, "203.0.113.7")] // IPv4-mapped counts as IPv4
    [InlineData("::ffff:203.0.113.7", 128, "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", 64, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 56, "2001:db8:1::/56")]
    [InlineData("2001:db8:1:2ff:aaaa::", 56, "2001:db8:1:200::/56")] // cuts inside a 16-bit group
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 48, "2001:db8:1::/48")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 128, "2001:db8:1:2:aaaa:bbbb:cccc:dddd/128")]
    [InlineData("::1", 64, "::/64")]
    [InlineData("::1", 128, "::1/128")]
    public void Keys(string address, int prefix, string expected) =>
        Assert.Equal(expected, ClientAddress.LimitKey(IPAddress.Parse(address), prefix));

    [Fact]
    public void The_default_prefix_is_64_and_a_link_local_scope_is_ignored()
    {
        Assert.Equal("2001:db8:1:2::/64", ClientAddress.LimitKey(IPAddress.Parse("2001:db8:1:2::77")));
        Assert.Equal("fe80::/64", ClientAddress.LimitKey(IPAddress.Parse("fe80::1%2")));
        Assert.Equal(ClientAddress.LimitKey(IPAddress.Parse("fe80::1%2")), ClientAddress.LimitKey(IPAddress.Parse("fe80::2%3")));
    }

    [Fact]
    public void Addresses_of_one_prefix_share_a_key_and_neighbours_do_not()
    {
        var keys = new[] { "2001:db8:1:2::", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff" }
            .Select(a => ClientAddress.LimitKey(IPAddress.Parse(a))).Distinct().ToList();
        Assert.Single(keys);
        Assert.NotEqual(keys[0], ClientAddress.LimitKey(IPAddress.Parse("2001:db8:1:3::")));
        Assert.NotEqual(keys[0], ClientAddress.LimitKey(IPAddress.Parse("2001:db8:1:1:ffff:ffff:ffff:ffff")));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(129)]
    public void A_prefix_length_out_of_range_is_refused(int prefix) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientAddress.LimitKey(IPAddress.Parse("2001:db8::1"), prefix));
}
