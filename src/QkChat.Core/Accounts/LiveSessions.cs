using System.Collections.Concurrent;
using QkChat.Transport;

namespace QkChat.Core.Accounts;

/// <summary>
/// Which connection serves which (user, device) on this node: the seam that answers "is U online here, and
/// where", used for same-device kicks and for cutting revoked devices. Thread-safe; reactors register and
/// unregister their own connections.
/// </summary>
public sealed class LiveSessions
{
    private readonly ConcurrentDictionary<uint, ConcurrentDictionary<string, Connection>> _byUser = new();

    /// <summary>Records <paramref name="connection"/> as the device's connection and returns the one it replaces, if any.</summary>
    public Connection? Register(uint userId, string clientId, Connection connection)
    {
        var devices = _byUser.GetOrAdd(userId, _ => new ConcurrentDictionary<string, Connection>(StringComparer.Ordinal));
        Connection? previous = null;
        devices.AddOrUpdate(clientId, connection, (_, old) => { previous = old; return connection; });
        return previous == connection ? null : previous;
    }

    /// <summary>Forgets the device unless another connection has taken it over meanwhile.</summary>
    public void Unregister(uint userId, string clientId, Connection connection)
    {
        if (!_byUser.TryGetValue(userId, out var devices)) return;
        devices.TryRemove(new KeyValuePair<string, Connection>(clientId, connection));
        if (devices.IsEmpty) _byUser.TryRemove(new KeyValuePair<uint, ConcurrentDictionary<string, Connection>>(userId, devices));
    }

    public Connection? Find(uint userId, string clientId) =>
        _byUser.TryGetValue(userId, out var devices) && devices.TryGetValue(clientId, out var c) ? c : null;
}
