using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;
using QkChat.Transport;
using StackExchange.Redis;

namespace QkChat.Server.Cluster;

/// <summary>
/// <see cref="IDelivery"/> for several nodes (protocol.md §12; docs/cluster.md, "Routing"): this node's devices through
/// <see cref="LocalDelivery"/> at once, the devices on other nodes through Redis: the registry
/// (<see cref="RouteRegistry"/>) says which node holds which device, and a frame crosses on the receiving node's
/// pub/sub channel. Every call stays synchronous and never waits for Redis: what needs Redis is queued to one
/// background worker (the route sender, ClusterDelivery.Sender.cs). The only Redis knowledge read on the caller's
/// thread is the route cache: which other nodes a user's devices were on when last read, kept until a node says the
/// user's devices changed (a notice on <see cref="ChangedChannel"/>) or <see cref="CacheTtlMs"/> passes.
/// </summary>
public sealed partial class ClusterDelivery : IDelivery, IAsyncDisposable
{
    /// <summary>
    /// Longest a cached route is used without a fresh read: the bound on staleness when a change notice is lost
    /// (pub/sub is at-most-once; a lost subscription also clears the whole cache when it is restored). 5 s: a push
    /// missed in that window is not lost, the message is stored and reaches the device by sync or at its next login.
    /// </summary>
    public const long CacheTtlMs = 5_000;

    /// <summary>
    /// Work waiting for the route sender before new cross-node work is dropped (and counted): about a second of the
    /// 100,000 pushes/s issue 19 asks for. Dropping loses pushes only: pub/sub is at-most-once by design.
    /// </summary>
    public const int QueueCapacity = 100_000;

    private readonly LocalDelivery _local;
    private readonly RouteRegistry _registry;
    private readonly IConnectionMultiplexer _redis;
    private readonly NodeLease? _lease;
    private readonly ILogger _logger;
    private readonly IAuditLog _audit;
    // The first half of this process's session tokens: its lease incarnation, so that they differ from an earlier
    // process's of the same node number (whose entries may survive a crash; connection ids restart at 1 in every process)
    // and the reap of a dead process spares this one's entries (docs/cluster.md, "Node death"). Without a lease (tests):
    // 8 random hex digits, as an incarnation has.
    private readonly string _incarnation;
    // Logins whose registry entry is written (or being written) before their answer, by session token, until the
    // session attaches here (docs/cluster.md, "Kicks across nodes").
    private readonly ConcurrentDictionary<string, Claim> _claims = new();
    private readonly Channel<Work> _work = Channel.CreateBounded<Work>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // never waited on: TryWrite fails instead, and the item is dropped
    });
    private readonly ConcurrentDictionary<uint, Route> _cache = new();
    private readonly CancellationTokenSource _stop = new();
    private volatile bool[] _live = new bool[MessageIds.MaxNode + 1];
    // Bumped by the route sender when it confirms a node alive: a liveness read that was on the wire meanwhile keeps that.
    private int _liveVersion;
    private Task _sender = Task.CompletedTask;
    private Task _ticker = Task.CompletedTask;
    private bool _sharded;

    /// <param name="lease">This node's lease: renewed first when Redis comes back, before the devices re-register,
    /// so that no other node takes them for a dead node's (null in tests that lease nothing).</param>
    /// <param name="audit">Where the `kicked` row of a same_device kick from another node is written (docs/audit.md).</param>
    /// <param name="groupOrderHoldMs">group.order_hold_ms: how long a group entry waits for a missing lower seq.</param>
    public ClusterDelivery(LocalDelivery local, IConnectionMultiplexer redis, int node, NodeLease? lease, ILogger logger, IAuditLog? audit = null,
        int groupOrderHoldMs = GroupOptions.DefaultOrderHoldMs)
    {
        Order = new GroupPushOrder(local, groupOrderHoldMs, logger);
        Stats.GroupOrder = Order.Stats;
        _audit = audit ?? NullAuditLog.Instance;
        _local = local;
        _redis = redis;
        _registry = new RouteRegistry(redis);
        _incarnation = lease?.Incarnation ?? Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))[..8];
        Node = node;
        _lease = lease;
        _logger = logger;
        _live[node] = true;
    }

    /// <summary>Puts each group's pushes to this node's devices in seq order (docs/cluster.md, "Group order"); its gap
    /// source is set at composition.</summary>
    public GroupPushOrder Order { get; }

    /// <summary>The liveness table (a node holds a lease), as last read; this node is always in it. Read-only to callers:
    /// the read marks leave a node out the moment this calls it dead (docs/cluster.md "Read marks").</summary>
    public ReadOnlySpan<bool> LiveNodes => _live;

    /// <summary>This node's number.</summary>
    public int Node { get; }

    public LiveSessions Live => _local.Live;

    public RouteStats Stats { get; } = new();

    /// <summary>Whether the channels are sharded (Redis Cluster: SSUBSCRIBE/SPUBLISH) or plain.</summary>
    public bool Sharded => _sharded;

    /// <summary>
    /// Node <paramref name="node"/>'s channel. The hash tag is the node number, the same as its lease key's: in a
    /// Cluster the 16 channels spread over the slots like the 16 lease keys.
    /// </summary>
    public static string ChannelName(int node) => "qk:frames:{" + node + "}";

    /// <summary>Where nodes say "these users' devices changed": every node drops its cached routes for them. A plain
    /// (not sharded) channel, which a Cluster forwards to every shard: changes follow logins, far rarer than frames.</summary>
    public static readonly RedisChannel ChangedChannel = RedisChannel.Literal("qk:devices:changed");

    private RedisChannel NodeChannel(int node) =>
        _sharded ? RedisChannel.Sharded(ChannelName(node)) : RedisChannel.Literal(ChannelName(node));

    public int ToUser(uint userId, OutboundFrame frame, Session? except = null, bool droppable = false, long messageId = 0)
    {
        int sent = _local.ToUser(userId, frame.AddReference(), except, droppable, messageId);
        // The sender's own device (except) is on this node: nothing on another node is skipped.
        bool unknown = Known(userId, out int remote);
        if (!unknown && remote == 0)
        {
            frame.Release();
            return sent;
        }
        Enqueue(new Work(WorkKind.Deliver, [userId], frame, droppable, messageId));
        return sent + remote;
    }

    public int ToUsers(ReadOnlySpan<uint> userIds, OutboundFrame frame, bool droppable = false, Session? except = null) =>
        ToRemoteUsers(userIds, frame, droppable, null, _local.ToUsers(userIds, frame.AddReference(), droppable, except));

    /// <summary>
    /// A push of a group's timeline: this node's devices through the group's order (GroupPushOrder: this node's entries
    /// and other nodes' meet there), the other nodes' in a group record that their order takes in.
    /// </summary>
    public int ToGroup(GroupSeq at, ReadOnlySpan<uint> userIds, OutboundFrame frame, Session? except = null) =>
        ToRemoteUsers(userIds, frame, false, at, Order.Push(at, userIds, frame.AddReference(), except));

    public void GroupUnpushed(GroupSeq at, Session sender) => Order.Unpushed(at, sender);

    private int ToRemoteUsers(ReadOnlySpan<uint> userIds, OutboundFrame frame, bool droppable, GroupSeq? group, int sent)
    {
        // Only the users who may have devices elsewhere go to the worker, in one item: it groups them by node. They are
        // gathered in this thread's scratch list and copied out once (a 1,000-member group's fan-out grew a list
        // through five arrays per entry before).
        var remoteUsers = t_remoteUsers ??= new List<uint>(64);
        remoteUsers.Clear();
        foreach (uint user in userIds)
        {
            bool unknown = Known(user, out int remote);
            if (!unknown && remote == 0) continue;
            remoteUsers.Add(user);
            sent += remote;
        }
        if (remoteUsers.Count == 0) frame.Release();
        else Enqueue(new Work(WorkKind.Deliver, [.. remoteUsers], frame, droppable, 0, Group: group));
        // A huge fan-out's list is not kept by this thread.
        if (remoteUsers.Capacity > MaxScratchUsers) t_remoteUsers = null;
        return sent;
    }

    // Above this a fan-out's scratch list is dropped after use: 16 KB of ids, a group of 4,096 members.
    private const int MaxScratchUsers = 4096;

    [ThreadStatic]
    private static List<uint>? t_remoteUsers;

    public void ToDevice(Session device, OutboundFrame frame) => _local.ToDevice(device, frame);

    /// <summary>This node's token for the session on <paramref name="connection"/>: the "session" of its registry value,
    /// "incarnation:connection" (the lease incarnation, the connection's number in hex).</summary>
    public string SessionOf(Connection connection) => SessionOf(connection.Id);

    private string SessionOf(long connectionId) => _incarnation + ":" + connectionId.ToString("x");

    /// <summary>
    /// The registry names the session before its login answers: queued to the route sender like an attach, and the
    /// returned task completes after that round's registry write, its kick of a session on another node and its change
    /// notice were sent (or failed). So whoever holds the answer may send to the user from any node: that node either
    /// has no cached route for the user and reads the registry, or has the notice in its socket already.
    /// </summary>
    public Task ClaimAsync(Session device, uint userId, string clientId, string? label)
    {
        var claim = new Claim(Environment.TickCount64, userId, clientId);
        string session = SessionOf(device.ConnectionId);
        _claims[session] = claim;
        if (!_work.Writer.TryWrite(new Work(WorkKind.Register, [userId], null, false, 0, clientId, Session: session, Device: label, Claim: claim)))
        {
            Stats.AddDropped();
            claim.Done.TrySetResult();
        }
        return claim.Done.Task;
    }

    public Session? Attach(Session device)
    {
        var previous = _local.Attach(device);
        string session = SessionOf(device.ConnectionId);
        if (_claims.TryRemove(session, out var claim) && claim.Taken)
        {
            // Registered before the answer; a take-over from another node that came meanwhile was kept for now.
            string? kickedBy;
            bool kicked;
            lock (claim)
            {
                claim.Attached = true;
                (kicked, kickedBy) = (claim.Kicked, claim.KickedBy);
            }
            if (kicked && Live.Find(device.UserId, device.ClientId!) is { } connection && connection.Id == device.ConnectionId)
                TakeOverHere(device.UserId, device.ClientId!, connection, kickedBy);
            return previous;
        }
        // Not registered yet (no claim, or Redis failed it): the registry learns it in the background; a session of this
        // device on another node is kicked from there.
        Enqueue(new Work(WorkKind.Register, [device.UserId], null, false, 0, device.ClientId, Session: session, Device: device.Device));
        return previous;
    }

    public void Detach(Session device)
    {
        _local.Detach(device);
        // Only this session's own entry goes: one that took the device over, here or on another node, keeps its own.
        if (device.ClientId is { } clientId && Live.Find(device.UserId, clientId) is null)
            Enqueue(new Work(WorkKind.Unregister, [device.UserId], null, false, 0, clientId, Session: SessionOf(device.ConnectionId)));
    }

    /// <summary>
    /// A login on another node replaced <paramref name="session"/> of the device (its registry take answered that
    /// session): kicked if it is still the device's session here, with the row a kick on one node writes (the new
    /// login's device label, this connection's address). A session still between its claim and its attach is kicked
    /// when it attaches. A newer session of the device is left alone: it replaced that one itself.
    /// </summary>
    private void TakeOver(uint user, string clientId, string session, string? device)
    {
        if (_claims.TryGetValue(session, out var claim))
            lock (claim)
            {
                if (!claim.Attached)
                {
                    (claim.Kicked, claim.KickedBy) = (true, device);
                    return;
                }
            }
        if (Live.Find(user, clientId) is { } connection && SessionOf(connection) == session)
            TakeOverHere(user, clientId, connection, device);
    }

    private void TakeOverHere(uint user, string clientId, Connection connection, string? device)
    {
        if (_local.Kick(user, clientId, connection, "same_device"))
            _audit.Record(new AuditRecord(AuditEvent.Kicked, user, clientId, device, connection.RemoteAddress.ToString(), true, "same_device"));
    }

    /// <summary>
    /// Kicks the device here, or (false) asks the node the registry names to kick it: read fresh from Redis by the
    /// route sender, not from the cache, because a revocation must reach a device that moved a moment ago.
    /// </summary>
    public bool Kick(uint userId, string clientId, string reason)
    {
        if (_local.Kick(userId, clientId, reason)) return true;
        Enqueue(new Work(WorkKind.Kick, [userId], null, false, 0, clientId, reason));
        return false;
    }

    // This node's devices, synchronously; over all nodes: DevicesEverywhereAsync and the presence table (docs/cluster.md,
    // "Presence").
    public bool IsOnline(uint userId) => _local.IsOnline(userId);

    public bool IsOnline(uint userId, string clientId) => _local.IsOnline(userId, clientId);

    public IReadOnlyList<string> DevicesOf(uint userId) => _local.DevicesOf(userId);

    /// <summary>This node's devices and the registry's entries on other live nodes, read now (never the route cache: a
    /// client asking about its sessions should see a device that logged in a moment ago).</summary>
    public async Task<IReadOnlyList<string>> DevicesEverywhereAsync(uint userId)
    {
        var devices = new List<string>(_local.DevicesOf(userId));
        try
        {
            var live = _live;
            foreach (var (clientId, node, _) in await _registry.DevicesAsync(userId))
                if (node != Node && live[node] && !devices.Contains(clientId)) devices.Add(clientId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis away: this node's devices are what is known.
        }
        return devices;
    }

    /// <summary>
    /// From the route cache, without waiting: false when the user's routes are known (<paramref name="remote"/>: their
    /// devices on other live nodes); true when they are not (never read, expired, or a read is under way).
    /// </summary>
    private bool Known(uint userId, out int remote)
    {
        remote = 0;
        if (!_cache.TryGetValue(userId, out var route) || route.Pending || route.ExpiresAt < Environment.TickCount64) return true;
        var live = _live;
        foreach (var (_, node) in route.Remote)
            if (live[node]) remote++;
        return false;
    }

    private void Enqueue(Work work)
    {
        if (_work.Writer.TryWrite(work)) return;
        work.Frame?.Release();
        Stats.AddDropped();
    }

    private enum WorkKind { Deliver, Register, Unregister, Kick, Reconcile, Restore }

    /// <summary>One queued piece of cross-node work; the frame reference, if any, is the worker's to release.</summary>
    private sealed record Work(WorkKind Kind, uint[] Users, OutboundFrame? Frame, bool Droppable, long MessageId,
        string? ClientId = null, string? Reason = null, string? Session = null, string? Device = null, Claim? Claim = null,
        GroupSeq? Group = null);

    /// <summary>A login's registry entry written before its answer (<see cref="ClaimAsync"/>).</summary>
    private sealed class Claim(long at, uint user, string clientId)
    {
        public long At { get; } = at;
        public uint User { get; } = user;
        public string ClientId { get; } = clientId;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>The registry holds the session (set by the route sender before Done).</summary>
        public volatile bool Taken;
        // Under the claim's lock: attached here, or kicked by a take-over before that (and by whose device label).
        public bool Attached;
        public bool Kicked;
        public string? KickedBy;
    }

    /// <summary>A user's devices on other nodes as last read (any node: liveness is checked at use).</summary>
    private sealed class Route((string ClientId, int Node)[] remote, long expiresAt, bool pending = false)
    {
        public static Route NewPending() => new([], 0, pending: true);

        public (string ClientId, int Node)[] Remote { get; } = remote;
        public long ExpiresAt { get; } = expiresAt;
        public bool Pending { get; } = pending;
    }
}
