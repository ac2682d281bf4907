using System.Net;

namespace QkChat.Transport;

/// <summary>
/// Counts open connections in all and per source address. Every acquire is matched by exactly one release when
/// the connection closes (the original server's counter only went up and locked everyone out). Called on accept
/// and close only, so a plain lock is cheaper than being clever.
/// </summary>
public sealed class ConnectionLimiter(int maxClients, int maxPerIp)
{
    private readonly Dictionary<IPAddress, int> _perIp = [];
    private readonly object _gate = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public int MaxClients { get; set; } = maxClients;

    public int MaxPerIp { get; set; } = maxPerIp;

    public int CountFor(IPAddress address)
    {
        lock (_gate) return _perIp.GetValueOrDefault(Normalize(address));
    }

    public bool TryAcquire(IPAddress address, out RejectReason reason)
    {
        address = Normalize(address);
        lock (_gate)
        {
            reason = default;
            if (_total >= MaxClients) { reason = RejectReason.MaxClients; return false; }
            int current = _perIp.GetValueOrDefault(address);
            if (current >= MaxPerIp) { reason = RejectReason.MaxClientsPerIp; return false; }
            _perIp[address] = current + 1;
            _total++;
            return true;
        }
    }

    public void Release(IPAddress address)
    {
        address = Normalize(address);
        lock (_gate)
        {
            if (!_perIp.TryGetValue(address, out int current)) return;
            if (current <= 1) _perIp.Remove(address);
            else _perIp[address] = current - 1;
            _total--;
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
