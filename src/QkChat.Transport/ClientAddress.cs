using System.Net;
using System.Net.Sockets;

namespace QkChat.Transport;

/// <summary>
/// The key that per-address limits count under. An IPv4 address (also one mapped into IPv6) is one client; an IPv6
/// address is keyed on its network prefix, because one subscriber commonly gets a whole /64 and can pick any of its
/// 2^64 addresses: keyed on the full address, every limit per address would be unlimited for them.
/// </summary>
public static class ClientAddress
{
    /// <summary>
    /// The prefix a single IPv6 subscriber is usually given (RFC 6177 recommends /56 or /48 per site, /64 is the
    /// smallest any SLAAC network has), so /64 never joins two unrelated customers.
    /// </summary>
    public const int DefaultIpv6PrefixLength = 64;

    public const int MinIpv6PrefixLength = 16;

    public const int MaxIpv6PrefixLength = 128;

    /// <summary>
    /// "203.0.113.7" for IPv4 and IPv4-mapped IPv6; "2001:db8:1:2::/64" for IPv6 (the address with every bit after
    /// <paramref name="ipv6PrefixLength"/> cleared, and the length). The scope id of a link-local address is dropped.
    /// </summary>
    public static string LimitKey(IPAddress address, int ipv6PrefixLength = DefaultIpv6PrefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        if (ipv6PrefixLength is < MinIpv6PrefixLength or > MaxIpv6PrefixLength)
            throw new ArgumentOutOfRangeException(nameof(ipv6PrefixLength), ipv6PrefixLength,
                $"an IPv6 prefix length is {MinIpv6PrefixLength} to {MaxIpv6PrefixLength}");
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        for (int bit = ipv6PrefixLength; bit < 128; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes).ToString() + "/" + ipv6PrefixLength;
    }
}
