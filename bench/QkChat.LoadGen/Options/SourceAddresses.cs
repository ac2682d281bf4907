using System.Net;

namespace QkChat.LoadGen.Options;

/// <summary>Parses "127.0.0.2-127.0.0.9" and "127.0.0.2,127.0.0.5" (mixable) into a list of IPv4 addresses.</summary>
public static class SourceAddresses
{
    /// <summary>A range longer than this is almost certainly a typo (a whole /16), not a plan.</summary>
    private const int MaxAddresses = 1024;

    public static IReadOnlyList<IPAddress> Parse(string text)
    {
        var result = new List<IPAddress>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-');
            if (dash < 0)
            {
                result.Add(ParseOne(part));
                continue;
            }
            uint first = ToUInt(ParseOne(part[..dash])), last = ToUInt(ParseOne(part[(dash + 1)..]));
            if (last < first) throw new FormatException($"source address range '{part}' runs backwards");
            if (last - first >= MaxAddresses) throw new FormatException($"source address range '{part}' is over {MaxAddresses} addresses");
            for (uint a = first; a <= last; a++) result.Add(FromUInt(a));
        }
        if (result.Count == 0) throw new FormatException("no source address given");
        return result;
    }

    /// <summary>
    /// The addresses worker <paramref name="index"/> of <paramref name="count"/> binds: a disjoint share when there are
    /// at least as many addresses as workers (each address's ~28k ports then belong to one process), otherwise one
    /// address shared round-robin.
    /// </summary>
    public static IReadOnlyList<IPAddress> ShareOf(IReadOnlyList<IPAddress> all, int index, int count)
    {
        if (all.Count == 0) return [];
        if (all.Count < count) return [all[index % all.Count]];
        var share = new List<IPAddress>();
        for (int i = index; i < all.Count; i += count) share.Add(all[i]);
        return share;
    }

    private static IPAddress ParseOne(string text)
    {
        if (!IPAddress.TryParse(text, out IPAddress? address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new FormatException($"'{text}' is not an IPv4 address");
        return address;
    }

    private static uint ToUInt(IPAddress a)
    {
        byte[] b = a.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    private static IPAddress FromUInt(uint v) => new([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
}
