using System.Net;

namespace QkChat.Transport;

/// <summary>
/// Counts open connections in all and per source address. Every acquire is matched by exactly one release when
/// the connection closes (the original server's counter only went up and locked everyone out). Called on accept
/// and close only, so a plain lock is cheaper than being clever. Addresses count under
/// <see cref="ClientAddress.LimitKey"/>: IPv6 per prefix, IPv4-mapped as IPv4. The prefix length is fixed for the
/// limiter's life, so a release always finds the key its acquire counted under.
/// </summary>
public sealed class ConnectionLimiter(int maxClients, int maxPerIp, int ipv6PrefixLength = ClientAddress.DefaultIpv6PrefixLength)
{
    private readonly Dictionary<string, int> _perIp = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public int MaxClients { get; set; } = maxClients;

    public int MaxPerIp { get; set; } = maxPerIp;

    public int Ipv6PrefixLength { get; } = ipv6PrefixLength;

    /// <summary>The key this limiter (and every other per-address limit of the server) counts the address under.</summary>
    public string KeyOf(IPAddress address) => ClientAddress.LimitKey(address, Ipv6PrefixLength);

    public int CountFor(IPAddress address)
    {
        string key = KeyOf(address);
        lock (_gate) return _perIp.GetValueOrDefault(key);
    }

    public bool TryAcquire(IPAddress address, out RejectReason reason)
    {
        string key = KeyOf(address);
        lock (_gate)
        {
            reason = default;
            if (_total >= MaxClients) { reason = RejectReason.MaxClients; return false; }
            int current = _perIp.GetValueOrDefault(key);
            if (current >= MaxPerIp) { reason = RejectReason.MaxClientsPerIp; return false; }
            _perIp[key] = current + 1;
            _total++;
            return true;
        }
    }

    public void Release(IPAddress address)
    {
        string key = KeyOf(address);
        lock (_gate)
        {
            if (!_perIp.TryGetValue(key, out int current)) return;
            if (current <= 1) _perIp.Remove(key);
            else _perIp[key] = current - 1;
            _total--;
        }
    }
}
