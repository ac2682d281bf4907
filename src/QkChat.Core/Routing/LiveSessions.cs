using System.Collections.Concurrent;
using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// Which connection serves which (user, device) on this node: the seam that answers "is U online here, and
/// where", used for delivery to a user's devices, same-device kicks and cutting revoked devices. Thread-safe;
/// reactors register and unregister their own connections. Several nodes (later) add a Redis registry beside it.
/// </summary>
public sealed class LiveSessions
{
    private readonly ConcurrentDictionary<uint, ConcurrentDictionary<string, Connection>> _byUser = new();
    private int _devices;

    /// <summary>Logged-in devices on this node (a metric).</summary>
    public int DeviceCount => Volatile.Read(ref _devices);

    /// <summary>Records <paramref name="connection"/> as the device's connection and returns the one it replaces, if any.</summary>
    public Connection? Register(uint userId, string clientId, Connection connection)
    {
        while (true)
        {
            var devices = _byUser.GetOrAdd(userId, _ => new ConcurrentDictionary<string, Connection>(StringComparer.Ordinal));
            // Writers of one user take its lock: an Unregister that empties and drops the map cannot race a Register
            // into a map nobody can see any more (the device would be online but unreachable). Readers take no lock.
            lock (devices)
            {
                if (!_byUser.TryGetValue(userId, out var current) || current != devices) continue;
                devices.TryGetValue(clientId, out var previous);
                devices[clientId] = connection;
                if (previous is null) Interlocked.Increment(ref _devices);
                return previous == connection ? null : previous;
            }
        }
    }

    /// <summary>Forgets the device unless another connection has taken it over meanwhile.</summary>
    public void Unregister(uint userId, string clientId, Connection connection)
    {
        if (!_byUser.TryGetValue(userId, out var devices)) return;
        lock (devices)
        {
            if (devices.TryRemove(new KeyValuePair<string, Connection>(clientId, connection))) Interlocked.Decrement(ref _devices);
            if (devices.IsEmpty) _byUser.TryRemove(new KeyValuePair<uint, ConcurrentDictionary<string, Connection>>(userId, devices));
        }
    }

    public Connection? Find(uint userId, string clientId) =>
        _byUser.TryGetValue(userId, out var devices) && devices.TryGetValue(clientId, out var c) ? c : null;

    /// <summary>Every (user, device) served here, a snapshot (the presence directory renews them).</summary>
    public List<(uint UserId, string ClientId)> Devices()
    {
        var all = new List<(uint, string)>();
        foreach (var (userId, devices) in _byUser)
            foreach (var (clientId, _) in devices) all.Add((userId, clientId));
        return all;
    }

    public bool IsOnline(uint userId) => _byUser.TryGetValue(userId, out var devices) && !devices.IsEmpty;

    /// <summary>
    /// The live connections of the user (from any thread; a device that comes or goes meanwhile may or may not be
    /// seen). A struct enumerator over the device map: enumerating allocates nothing.
    /// </summary>
    public DeviceConnections ConnectionsOf(uint userId) =>
        new(_byUser.TryGetValue(userId, out var devices) ? devices : null);

    /// <summary>The user's device client ids, a snapshot.</summary>
    public List<string> ClientIdsOf(uint userId)
    {
        var ids = new List<string>();
        if (_byUser.TryGetValue(userId, out var devices))
            foreach (var (clientId, _) in devices) ids.Add(clientId);
        return ids;
    }

    public readonly struct DeviceConnections(ConcurrentDictionary<string, Connection>? devices)
    {
        public Enumerator GetEnumerator() => new(devices);

        public struct Enumerator(ConcurrentDictionary<string, Connection>? devices)
        {
            private IEnumerator<KeyValuePair<string, Connection>>? _inner = devices?.GetEnumerator();

            public readonly Connection Current => _inner!.Current.Value;

            public bool MoveNext() => _inner is not null && _inner.MoveNext();
        }
    }
}
