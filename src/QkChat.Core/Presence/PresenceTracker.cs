using System.Collections.Concurrent;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;

namespace QkChat.Core.Presence;

/// <summary>
/// The status of every device connected to this node, and of each user the most present of their devices.
/// Thread-safe: reactors update their own devices; a short lock per user keeps "change a device, recompute the
/// user" atomic (no I/O under it). Only present users take memory: the last_seen of one who left is in the database
/// (written by the presence service when they go offline), so this does not grow with every user ever seen.
/// </summary>
public sealed class PresenceTracker : IPresenceView
{
    private readonly ConcurrentDictionary<uint, UserPresence> _users = new();
    private readonly TimeProvider _time;

    public PresenceTracker(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>A change of what friends see: the user's visible status before and after.</summary>
    public readonly record struct Change(uint UserId, PresenceStatus Before, PresenceStatus After, long LastSeen);

    /// <summary>Sets a device's status (a login sets online; offline removes the device when it is still this session's).</summary>
    public Change Set(uint userId, string clientId, Session session, PresenceStatus status)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        while (true)
        {
            var user = _users.GetOrAdd(userId, static _ => new UserPresence());
            lock (user)
            {
                // A user entry emptied and removed concurrently is dead: take a fresh one.
                if (user.Removed) continue;
                var before = user.Status();
                if (status == PresenceStatus.Offline)
                {
                    if (user.Devices.TryGetValue(clientId, out var device) && device.Session == session)
                        user.Devices.Remove(clientId);
                }
                else
                {
                    user.Devices[clientId] = new DevicePresence(session, status);
                }
                var after = user.Status();
                if (user.Devices.Count == 0)
                {
                    user.Removed = true;
                    _users.TryRemove(new KeyValuePair<uint, UserPresence>(userId, user));
                }
                return new Change(userId, before.Visible(), after.Visible(), now);
            }
        }
    }

    /// <summary>A device's own status, or null if this session is not (or no longer) that device.</summary>
    public PresenceStatus? DeviceStatus(uint userId, string clientId, Session session)
    {
        if (!_users.TryGetValue(userId, out var user)) return null;
        lock (user)
            return user.Devices.TryGetValue(clientId, out var d) && d.Session == session ? d.Status : null;
    }

    /// <summary>Every device here and its status, a snapshot (the presence table is written again from it).</summary>
    public List<(uint UserId, string ClientId, PresenceStatus Status)> Devices()
    {
        var devices = new List<(uint, string, PresenceStatus)>();
        foreach (var (userId, user) in _users)
            lock (user)
                foreach (var (clientId, device) in user.Devices) devices.Add((userId, clientId, device.Status));
        return devices;
    }

    /// <summary>Whether any session of this node holds the device.</summary>
    public bool HasDevice(uint userId, string clientId)
    {
        if (!_users.TryGetValue(userId, out var user)) return false;
        lock (user) return user.Devices.ContainsKey(clientId);
    }

    /// <summary>The user's own status across devices (invisible stays invisible here; friends see offline).</summary>
    public PresenceStatus StatusOf(uint userId)
    {
        if (!_users.TryGetValue(userId, out var user)) return PresenceStatus.Offline;
        lock (user) return user.Status();
    }

    public string VisibleStatus(uint userId) => StatusOf(userId).Visible().Name();

    /// <summary>The deployment's presence table (several nodes), read by <see cref="OverAllNodesAsync"/>; null: one node.</summary>
    public IPresenceDirectory? Directory { get; set; }

    public async ValueTask<IPresenceView> OverAllNodesAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct)
    {
        if (Directory is not { } directory || userIds.Count == 0) return this;
        try
        {
            return new OverNodes(this, await directory.StatusesAsync(userIds, ct));
        }
        catch (Exception)
        {
            // Redis away: a friend list still answers, with what this node knows (a present user elsewhere looks offline).
            return this;
        }
    }

    /// <summary>The table's statuses of some users at one moment, with this node's own devices on top.</summary>
    private sealed class OverNodes(PresenceTracker local, IReadOnlyDictionary<uint, PresenceStatus> table) : IPresenceView
    {
        private PresenceStatus Of(uint userId)
        {
            var here = local.StatusOf(userId);
            return table.TryGetValue(userId, out var there) && there > here ? there : here;
        }

        public string VisibleStatus(uint userId) => Of(userId).Visible().Name();

        public long? LastSeen(uint userId) =>
            Of(userId).Visible() != PresenceStatus.Offline ? local._time.GetUtcNow().ToUnixTimeMilliseconds() : null;

        public ValueTask<IPresenceView> OverAllNodesAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct) =>
            local.OverAllNodesAsync(userIds, ct);
    }

    /// <summary>
    /// Now for a user others see present; null otherwise (the database keeps the moment they went offline or
    /// invisible, which is all an invisible user's friends may learn).
    /// </summary>
    public long? LastSeen(uint userId) =>
        StatusOf(userId).Visible() != PresenceStatus.Offline ? _time.GetUtcNow().ToUnixTimeMilliseconds() : null;

    private sealed class UserPresence
    {
        public readonly Dictionary<string, DevicePresence> Devices = new(StringComparer.Ordinal);
        public bool Removed;

        public PresenceStatus Status()
        {
            var best = PresenceStatus.Offline;
            foreach (var (_, device) in Devices)
                if (device.Status > best) best = device.Status;
            return best;
        }
    }

    private readonly record struct DevicePresence(Session Session, PresenceStatus Status);
}
