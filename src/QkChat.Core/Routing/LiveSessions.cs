using System.Collections.Concurrent;
using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// Which connection serves which (user, device) on this node: the seam that answers "is U online here, and
/// where", used for delivery to a user's devices, same-device kicks and cutting revoked devices. Thread-safe;
/// reactors register and unregister their own connections. Several nodes (later) add a Redis registry beside it.
/// </summary>
/// <remarks>
/// A user's devices are an immutable array, replaced whole under the user's lock when a device comes or goes (rare:
/// logins and closes), and read without a lock (every push). So reaching a user's devices allocates nothing: a group
/// entry fanned out to 1,000 members costs no enumerator per member (GroupFanOutAllocationTests). Users have a handful
/// of devices, so finding one by client id is a short scan.
/// </remarks>
public sealed class LiveSessions
{
    private readonly ConcurrentDictionary<uint, UserDevices> _byUser = new();
    private int _devices;

    /// <summary>One user's devices on this node; writers lock it, readers read <see cref="All"/> as it is.</summary>
    private sealed class UserDevices
    {
        public volatile Device[] All = [];

        public int IndexOf(string clientId)
        {
            var all = All;
            for (int i = 0; i < all.Length; i++)
                if (string.Equals(all[i].ClientId, clientId, StringComparison.Ordinal)) return i;
            return -1;
        }
    }

    internal readonly record struct Device(string ClientId, Connection Connection);

    /// <summary>Logged-in devices on this node (a metric).</summary>
    public int DeviceCount => Volatile.Read(ref _devices);

    /// <summary>Records <paramref name="connection"/> as the device's connection and returns the one it replaces, if any.</summary>
    public Connection? Register(uint userId, string clientId, Connection connection)
    {
        while (true)
        {
            var devices = _byUser.GetOrAdd(userId, static _ => new UserDevices());
            // Writers of one user take its lock: an Unregister that empties and drops the entry cannot race a Register
            // into an entry nobody can see any more (the device would be online but unreachable). Readers take no lock.
            lock (devices)
            {
                if (!_byUser.TryGetValue(userId, out var current) || current != devices) continue;
                int i = devices.IndexOf(clientId);
                if (i < 0)
                {
                    devices.All = [.. devices.All, new Device(clientId, connection)];
                    Interlocked.Increment(ref _devices);
                    return null;
                }
                var previous = devices.All[i].Connection;
                if (previous == connection) return null;
                var replaced = devices.All.ToArray();
                replaced[i] = new Device(clientId, connection);
                devices.All = replaced;
                return previous;
            }
        }
    }

    /// <summary>Forgets the device unless another connection has taken it over meanwhile.</summary>
    public void Unregister(uint userId, string clientId, Connection connection)
    {
        if (!_byUser.TryGetValue(userId, out var devices)) return;
        lock (devices)
        {
            int i = devices.IndexOf(clientId);
            if (i >= 0 && devices.All[i].Connection == connection)
            {
                devices.All = [.. devices.All[..i], .. devices.All[(i + 1)..]];
                Interlocked.Decrement(ref _devices);
            }
            if (devices.All.Length == 0) _byUser.TryRemove(new KeyValuePair<uint, UserDevices>(userId, devices));
        }
    }

    public Connection? Find(uint userId, string clientId)
    {
        if (!_byUser.TryGetValue(userId, out var devices)) return null;
        foreach (var device in devices.All)
            if (string.Equals(device.ClientId, clientId, StringComparison.Ordinal)) return device.Connection;
        return null;
    }

    /// <summary>Every (user, device) served here, a snapshot (the presence directory renews them).</summary>
    public List<(uint UserId, string ClientId)> Devices()
    {
        var all = new List<(uint, string)>();
        foreach (var (userId, devices) in _byUser)
            foreach (var device in devices.All) all.Add((userId, device.ClientId));
        return all;
    }

    public bool IsOnline(uint userId) => _byUser.TryGetValue(userId, out var devices) && devices.All.Length > 0;

    /// <summary>
    /// The live connections of the user (from any thread; a device that comes or goes meanwhile may or may not be
    /// seen): a struct over the current array of devices, so enumerating allocates nothing.
    /// </summary>
    public DeviceConnections ConnectionsOf(uint userId) =>
        new(_byUser.TryGetValue(userId, out var devices) ? devices.All : []);

    /// <summary>The user's device client ids, a snapshot.</summary>
    public List<string> ClientIdsOf(uint userId)
    {
        var ids = new List<string>();
        if (_byUser.TryGetValue(userId, out var devices))
            foreach (var device in devices.All) ids.Add(device.ClientId);
        return ids;
    }

    public readonly struct DeviceConnections
    {
        private readonly Device[] _devices;

        internal DeviceConnections(Device[] devices) => _devices = devices;

        public Enumerator GetEnumerator() => new(_devices);

        public struct Enumerator
        {
            private readonly Device[] _devices;
            private int _index;

            internal Enumerator(Device[] devices)
            {
                _devices = devices;
                _index = -1;
            }

            public readonly Connection Current => _devices[_index].Connection;

            public bool MoveNext() => ++_index < _devices.Length;
        }
    }
}
