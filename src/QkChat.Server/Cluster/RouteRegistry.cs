using QkChat.Core.Messaging;
using StackExchange.Redis;

namespace QkChat.Server.Cluster;

/// <summary>
/// Which node holds which device, in Redis (docs/cluster.md, "Routing"): one hash per user, `qk:devices:{user id}`,
/// field = client id, value = the node's number. The braces are a hash tag: each user's key sits in one Cluster slot
/// and users spread over all slots. Entries carry no TTL: a node's liveness is its lease key (<see cref="NodeLease"/>),
/// so the entries of a node whose lease is gone are ignored by every reader at once and deleted by whichever node
/// reads them first (<see cref="ForgetIfHeldByAsync"/>). Every call here runs on the route worker, never a reactor.
/// </summary>
public sealed class RouteRegistry(IConnectionMultiplexer redis)
{
    // Takes the device for this node and returns the node that held it before (nil: nobody), in one step, so two nodes
    // that sign the same device in at once both learn about each other: the later one kicks the earlier.
    private const string TakeScript = """
        local old = redis.call('HGET', KEYS[1], ARGV[1])
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        return old
        """;

    // Deletes the field only while it still names the node: a detach (or the cleaning of a dead node's entry) never
    // removes the entry another node has written since.
    private const string ForgetScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 0
        """;

    private IDatabase Db => redis.GetDatabase();

    public static RedisKey Key(uint userId) => "qk:devices:{" + userId + "}";

    /// <summary>Registers the device on <paramref name="node"/>; the node that held it before, or null.</summary>
    public async Task<int?> TakeAsync(uint userId, string clientId, int node)
    {
        var old = await Db.ScriptEvaluateAsync(TakeScript, [Key(userId)], [clientId, node]);
        return old.IsNull ? null : (int)old;
    }

    /// <summary>Registers the device only if no node holds it (re-registration after Redis lost its data).</summary>
    public Task<bool> RestoreAsync(IBatch batch, uint userId, string clientId, int node) => batch.HashSetAsync(Key(userId), clientId, node, When.NotExists);

    public Task ForgetIfHeldByAsync(uint userId, string clientId, int node) =>
        Db.ScriptEvaluateAsync(ForgetScript, [Key(userId)], [clientId, node]);

    /// <summary>Every device of the user and its node (all nodes, this one too).</summary>
    public async Task<(string ClientId, int Node)[]> DevicesAsync(uint userId)
    {
        var entries = await Db.HashGetAllAsync(Key(userId));
        var devices = new (string, int)[entries.Length];
        int n = 0;
        foreach (var e in entries)
            if (e.Value.TryParse(out int node) && node is >= 0 and <= MessageIds.MaxNode) devices[n++] = ((string)e.Name!, node);
        return n == devices.Length ? devices : devices[..n];
    }

    public async Task<int?> NodeOfAsync(uint userId, string clientId)
    {
        var v = await Db.HashGetAsync(Key(userId), clientId);
        return v.TryParse(out int node) ? node : null;
    }

    /// <summary>
    /// Which node numbers hold a lease now: one EXISTS per lease key, sent together (each key its own slot in a
    /// Cluster, so no multi-key command).
    /// </summary>
    public async Task<bool[]> LiveNodesAsync()
    {
        var checks = new Task<bool>[MessageIds.MaxNode + 1];
        for (int i = 0; i < checks.Length; i++) checks[i] = Db.KeyExistsAsync(NodeLease.Key(i));
        return await Task.WhenAll(checks);
    }
}
