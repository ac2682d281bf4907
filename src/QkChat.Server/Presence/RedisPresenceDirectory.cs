using QkChat.Core.Presence;
using QkChat.Server.Cluster;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.Server.Presence;

/// <summary>
/// The deployment's presence table in Redis (docs/cluster.md, "Presence"). Per user a hash `qk:presence:{user id}`:
/// field = client_id, value = "node:incarnation:status" (the node number holding the device, its lease's incarnation, the
/// device's status as a digit of <see cref="PresenceStatus"/>; "node:status" from earlier versions is read too). Per node a
/// set `qk:node:{N}:users` of the users it wrote, so that the devices of a dead node can be found without a scan. No TTL:
/// a node's liveness is its lease (<see cref="NodeLease"/>); when it lapses, the live nodes reap its devices
/// (RedisPresenceDirectory.Reap.cs), only those of the dead incarnation, so a new process that took the number at once keeps
/// its own. Each step is one script on the user's key, atomic, answering the user's status over all devices before and
/// after, so exactly one node sees each change. The braces are hash tags: a user's presence hash shares the slot of its
/// device registry hash (`qk:devices:{user id}`), which the reap cleans in the same script; a node's set shares its lease
/// key's slot.
/// </summary>
/// <param name="incarnation">This node's lease incarnation ("" in tests that lease nothing).</param>
/// <param name="time">The clock of the reap markers (RedisPresenceDirectory.Reap.cs); tests move it.</param>
public sealed partial class RedisPresenceDirectory(IConnectionMultiplexer redis, int node, string incarnation = "", TimeProvider? time = null)
    : IPresenceDirectory
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // For the other part of the class (the reap): the primary constructor's parameters by name.
    private IConnectionMultiplexer Redis => redis;

    private int Node => node;

    // The status digit of a value ("N:incarnation:S", or "N:S" of earlier versions), the node it names, and its incarnation
    // (of a presence value or of a registry value "N:incarnation:connection"; '' for the earlier shapes); the most present
    // status of the hash's devices (the PresenceStatus digits are ordered), 0 = offline. Values of another shape (the
    // TTL-based table of earlier versions) count as nothing.
    private const string Best = """
        local function status(v)
          return tonumber(string.match(v, '^%d+:(%d)$') or string.match(v, '^%d+:%x+:(%d)$'))
        end
        local function owner(v)
          return string.match(v, '^(%d+):')
        end
        local function incarnation(v)
          return string.match(v, '^%d+:(%x+):%x+$') or ''
        end
        local function best(key)
          local b = 0
          for _, v in ipairs(redis.call('HVALS', key)) do
            local s = status(v)
            if s and s > b then b = s end
          end
          return b
        end
        """;

    // ARGV: client_id, node, status digit (0 = offline: delete while this node holds it), this node's value prefix
    // ("N:incarnation:" or "N:"). Returns before, after, and how many devices of the user the node's number still holds (any
    // incarnation: a dead one's entries keep the user in the node's set for the reap). PERSIST: a key of the earlier
    // TTL-based table must not expire.
    private const string SetScript = Best + """

        local before = best(KEYS[1])
        if ARGV[3] == '0' then
          local v = redis.call('HGET', KEYS[1], ARGV[1])
          if v and owner(v) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
        else
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[4] .. ARGV[3])
          redis.call('PERSIST', KEYS[1])
        end
        local mine = 0
        for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
          if owner(v) == ARGV[2] then mine = mine + 1 end
        end
        return {before, best(KEYS[1]), mine}
        """;

    // This node's value prefix: the status digit follows.
    private readonly string _prefix = incarnation.Length == 0 ? node + ":" : node + ":" + incarnation + ":";

    public static RedisKey Key(uint userId) => "qk:presence:{" + userId + "}";

    public static RedisKey UsersKey(int node) => "qk:node:{" + node + "}:users";

    public Task<ClusterChange> SetDeviceAsync(uint userId, string clientId, PresenceStatus status, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = redis.GetDatabase();
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(SetScript, [Key(userId)], [clientId, node, (int)status, _prefix]))!;
            int mine = (int)result[2];
            // The set only has to name every user this node holds; a stale member costs one empty reap step.
            if (status != PresenceStatus.Offline) await db.SetAddAsync(UsersKey(node), userId);
            else if (mine == 0) await db.SetRemoveAsync(UsersKey(node), userId);
            return Change(userId, result[0], result[1]);
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

    /// <summary>The status digit of a "node:incarnation:status" or "node:status" value (the scripts' patterns); null for anything else.</summary>
    private static PresenceStatus? StatusOf(RedisValue value)
    {
        string? s = value;
        if (s is null || s.Length < 3 || s[^2] != ':' || s[^1] is < '1' or > '4') return null;
        return (PresenceStatus)(s[^1] - '0');
    }

    private static ClusterChange Change(uint userId, RedisResult before, RedisResult after) =>
        new(userId, ((PresenceStatus)(int)before).Visible(), ((PresenceStatus)(int)after).Visible());
}
