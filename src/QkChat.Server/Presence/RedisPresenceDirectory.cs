using QkChat.Core.Presence;
using QkChat.Server.Cluster;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.Server.Presence;

/// <summary>
/// The deployment's presence table in Redis (docs/cluster.md, "Presence"). Per user a hash `qk:presence:{user id}`:
/// field = client_id, value = "node:status" (the node number holding the device, the device's status as a digit of
/// <see cref="PresenceStatus"/>). Per node a set `qk:node:{N}:users` of the users it wrote, so that the devices of a dead
/// node can be found without a scan. No TTL: a node's liveness is its lease (<see cref="NodeLease"/>); when it lapses,
/// the live nodes reap its devices (<see cref="ReapNodeAsync"/>). Each step is one script on the user's key, atomic,
/// answering the user's status over all devices before and after, so exactly one node sees each change. The braces
/// are hash tags: a user's presence hash shares the slot of its device registry hash (`qk:devices:{user id}`), which
/// the reap cleans in the same script; a node's set shares its lease key's slot.
/// </summary>
public sealed class RedisPresenceDirectory(IConnectionMultiplexer redis, int node) : IPresenceDirectory
{
    // The most present status of the hash's devices (the PresenceStatus digits are ordered), 0 = offline. Values of
    // another shape (the TTL-based table of earlier versions) count as nothing.
    private const string Best = """
        local function best(key)
          local b = 0
          for _, v in ipairs(redis.call('HVALS', key)) do
            local s = tonumber(string.match(v, '^%d+:(%d)$'))
            if s and s > b then b = s end
          end
          return b
        end
        """;

    // ARGV: client_id, node, status digit (0 = offline: delete while this node holds it). Returns before, after, and how
    // many devices of the user this node still holds. PERSIST: a key of the earlier TTL-based table must not expire.
    private const string SetScript = Best + """

        local before = best(KEYS[1])
        if ARGV[3] == '0' then
          local v = redis.call('HGET', KEYS[1], ARGV[1])
          if v and string.match(v, '^(%d+):') == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
        else
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
          redis.call('PERSIST', KEYS[1])
        end
        local mine = 0
        for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
          if string.match(v, '^(%d+):') == ARGV[2] then mine = mine + 1 end
        end
        return {before, best(KEYS[1]), mine}
        """;

    // KEYS: the user's presence hash, the user's device registry hash; ARGV: the dead node. Removes the node's devices
    // from both (the registry's readers ignore them already; this frees them; a registry value is "node:session") and
    // returns before, after.
    private const string ReapScript = Best + """

        local before = best(KEYS[1])
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          if string.match(all[i + 1], '^(%d+):') == ARGV[1] then redis.call('HDEL', KEYS[1], all[i]) end
        end
        local routes = redis.call('HGETALL', KEYS[2])
        for i = 1, #routes, 2 do
          if string.match(routes[i + 1], '^(%d+)') == ARGV[1] then redis.call('HDEL', KEYS[2], routes[i]) end
        end
        return {before, best(KEYS[1])}
        """;

    // Users reaped per pipelined round: a dead node of 15,000 devices is a few rounds, none holding much memory.
    private const int ReapChunk = 1000;

    public static RedisKey Key(uint userId) => "qk:presence:{" + userId + "}";

    public static RedisKey UsersKey(int node) => "qk:node:{" + node + "}:users";

    public Task<ClusterChange> SetDeviceAsync(uint userId, string clientId, PresenceStatus status, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = redis.GetDatabase();
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(SetScript, [Key(userId)], [clientId, node, (int)status]))!;
            int mine = (int)result[2];
            // The set only has to name every user this node holds; a stale member costs one empty reap step.
            if (status != PresenceStatus.Offline) await db.SetAddAsync(UsersKey(node), userId);
            else if (mine == 0) await db.SetRemoveAsync(UsersKey(node), userId);
            return Change(userId, result[0], result[1]);
        });

    public Task<IReadOnlyList<ClusterChange>> ReapNodeAsync(int dead, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<ClusterChange>>("Redis", async () =>
        {
            var db = redis.GetDatabase();
            var users = await db.SetMembersAsync(UsersKey(dead));
            var changes = new List<ClusterChange>();
            for (int i = 0; i < users.Length; i += ReapChunk)
            {
                var chunk = users.AsMemory(i, Math.Min(ReapChunk, users.Length - i));
                var steps = new List<(uint User, Task<RedisResult> Step)>(chunk.Length);
                foreach (var member in chunk.Span)
                    if (member.TryParse(out long id) && id is > 0 and <= uint.MaxValue)
                        steps.Add(((uint)id, db.ScriptEvaluateAsync(ReapScript, [Key((uint)id), RouteRegistry.Key((uint)id)], [dead])));
                await Task.WhenAll(steps.Select(s => s.Step));
                foreach (var (user, step) in steps)
                {
                    var result = (RedisResult[])step.Result!;
                    var change = Change(user, result[0], result[1]);
                    if (change.Before != change.After) changes.Add(change);
                }
                await db.SetRemoveAsync(UsersKey(dead), chunk.ToArray());
            }
            return changes;
        });

    public Task<IReadOnlyDictionary<uint, PresenceStatus>> StatusesAsync(IReadOnlyCollection<uint> userIds, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyDictionary<uint, PresenceStatus>>("Redis", async () =>
        {
            var batch = redis.GetDatabase().CreateBatch();
            var reads = userIds.Distinct().Select(u => (User: u, Values: batch.HashValuesAsync(Key(u)))).ToList();
            batch.Execute();
            await Task.WhenAll(reads.Select(r => r.Values));
            var statuses = new Dictionary<uint, PresenceStatus>();
            foreach (var (user, values) in reads)
            {
                var best = PresenceStatus.Offline;
                foreach (var value in values.Result)
                    if (StatusOf(value) is { } s && s > best) best = s;
                if (best != PresenceStatus.Offline) statuses[user] = best;
            }
            return statuses;
        });

    /// <summary>The status digit of a "node:status" value (the scripts' pattern); null for anything else.</summary>
    private static PresenceStatus? StatusOf(RedisValue value)
    {
        string? s = value;
        if (s is null || s.Length < 3 || s[^2] != ':' || s[^1] is < '1' or > '4') return null;
        return (PresenceStatus)(s[^1] - '0');
    }

    private static ClusterChange Change(uint userId, RedisResult before, RedisResult after) =>
        new(userId, ((PresenceStatus)(int)before).Visible(), ((PresenceStatus)(int)after).Visible());
}
