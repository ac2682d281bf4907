using QkChat.Core.Messaging;
using StackExchange.Redis;

namespace QkChat.Server.Cluster;

/// <summary>
/// Which node holds which device, in Redis (docs/cluster.md, "Routing"): one hash per user, `qk:devices:{user id}`,
/// field = client id, value = "node:session" where the session is "incarnation:connection" (ClusterDelivery.SessionOf):
/// the node's lease incarnation (<see cref="NodeLease.Incarnation"/>, new for every process that leases the number) and the
/// connection's number in that process, in hex. So a value reads "N:incarnation:connection". The session makes a kick
/// exact: a node kicks the session the registry named, never a newer one of the same device that took over since; its
/// incarnation lets the reap of a dead process (RedisPresenceDirectory) tell its entries from those of a new process under
/// the same number. The braces are a hash tag: each user's key sits in one Cluster slot and users spread over all slots.
/// Entries carry no TTL: a node's liveness is its lease key (<see cref="NodeLease"/>), so the entries of a node whose
/// lease is gone are ignored by every reader at once and deleted by whichever node reads them first
/// (<see cref="ForgetNodeAsync"/>). Every call here runs on the route worker, never a reactor.
/// </summary>
public sealed class RouteRegistry(IConnectionMultiplexer redis)
{
    // Takes the device for this session and returns the value it replaced (nil: nobody), in one step, so of two nodes
    // that sign the same device in at once the later learns exactly which session it replaced, and kicks that one.
    private const string TakeScript = """
        local old = redis.call('HGET', KEYS[1], ARGV[1])
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        return old
        """;

    // Deletes the field only while it still holds ARGV[2] exactly (a session's own entry): a detach never removes the
    // entry a newer session, on this node or another, has written since.
    private const string ForgetScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 0
        """;

    // Deletes the field only while it names node ARGV[2] (any session of it: the cleaning of a dead node's entry).
    private const string ForgetNodeScript = """
        local v = redis.call('HGET', KEYS[1], ARGV[1])
        if v and (v == ARGV[2] or string.sub(v, 1, #ARGV[2] + 1) == ARGV[2] .. ':') then return redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 0
        """;

    private IDatabase Db => redis.GetDatabase();

    public static RedisKey Key(uint userId) => "qk:devices:{" + userId + "}";

    /// <summary>The registry value of a session on a node.</summary>
    public static string Value(int node, string session) => node + ":" + session;

    /// <summary>Splits a registry value; false for anything else. A bare number (an earlier format) has no session.</summary>
    public static bool TryParse(RedisValue value, out int node, out string? session)
    {
        session = null;
        string? s = value;
        if (s is null)
        {
            node = -1;
            return false;
        }
        int colon = s.IndexOf(':');
        if (colon >= 0) session = s[(colon + 1)..];
        return int.TryParse(colon < 0 ? s : s[..colon], out node) && node is >= 0 and <= MessageIds.MaxNode;
    }

    /// <summary>Registers the session's device on <paramref name="node"/>; the entry it replaced, if any.</summary>
    public async Task<(int Node, string? Session)?> TakeAsync(uint userId, string clientId, int node, string session)
    {
        var old = await Db.ScriptEvaluateAsync(TakeScript, [Key(userId)], [clientId, Value(node, session)]);
        return TryParse(old.IsNull ? RedisValue.Null : (RedisValue)old, out int n, out string? s) ? (n, s) : null;
    }

    /// <summary>Registers the device only if no node holds it (re-registration after Redis lost its data).</summary>
    public Task<bool> RestoreAsync(IBatch batch, uint userId, string clientId, int node, string session) =>
        batch.HashSetAsync(Key(userId), clientId, Value(node, session), When.NotExists);

    /// <summary>Deletes the session's own entry (only while it is still the session's).</summary>
    public Task ForgetSessionAsync(uint userId, string clientId, int node, string session) =>
        Db.ScriptEvaluateAsync(ForgetScript, [Key(userId)], [clientId, Value(node, session)]);

    /// <summary>Deletes the entry while it names <paramref name="node"/>, whichever session (a dead node's).</summary>
    public Task ForgetNodeAsync(uint userId, string clientId, int node) =>
        Db.ScriptEvaluateAsync(ForgetNodeScript, [Key(userId)], [clientId, node]);

    /// <summary>Every device of the user, its node and session (all nodes, this one too).</summary>
    public async Task<(string ClientId, int Node, string? Session)[]> DevicesAsync(uint userId)
    {
        var entries = await Db.HashGetAllAsync(Key(userId));
        var devices = new (string, int, string?)[entries.Length];
        int n = 0;
        foreach (var e in entries)
            if (TryParse(e.Value, out int node, out string? session)) devices[n++] = ((string)e.Name!, node, session);
        return n == devices.Length ? devices : devices[..n];
    }

    public async Task<int?> NodeOfAsync(uint userId, string clientId) =>
        TryParse(await Db.HashGetAsync(Key(userId), clientId), out int node, out _) ? node : null;

    /// <summary>
    /// Which node numbers hold a lease now, and which have a reap pending (<see cref="NodeLease.ReapingKey"/>): one EXISTS
    /// per key, sent together (each number its own slot in a Cluster, so no multi-key command).
    /// </summary>
    public async Task<(bool[] Live, bool[] Reaping)> LiveNodesAsync()
    {
        var checks = new Task<bool>[MessageIds.MaxNode + 1];
        var reaps = new Task<bool>[MessageIds.MaxNode + 1];
        for (int i = 0; i < checks.Length; i++)
        {
            checks[i] = Db.KeyExistsAsync(NodeLease.Key(i));
            reaps[i] = Db.KeyExistsAsync(NodeLease.ReapingKey(i));
        }
        return (await Task.WhenAll(checks), await Task.WhenAll(reaps));
    }
}
