using QkChat.Core.Presence;
using QkChat.Server.Cluster;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.Server.Presence;

/// <summary>
/// The reap of a node number without a lease (docs/cluster.md, "Node death"): its users set read once, then rounds of
/// <see cref="ReapChunk"/> users, each round's scripts pipelined, its changes told (the caller's callback) before its users
/// leave the set. Retried and idempotent: a change a script made is recorded in the user's marker hash
/// (<see cref="MarkerKey"/>) until its friends were told, so an attempt that fails after its scripts ran (a Redis error
/// half-way, a failed tell) leaves the marker, and the next attempt reports the change again instead of finding nothing
/// to do; and the number's reap flag (<see cref="NodeLease.ReapingKey"/>) stands from an attempt's start until one
/// attempt finishes, so every node's liveness tick retries a reap that failed anywhere.
/// </summary>
public sealed partial class RedisPresenceDirectory
{
    // KEYS: the user's presence hash, its device registry hash, its reap markers; ARGV: the dead node, the incarnation that
    // holds its number now ('' when none), the reaping node, now (ms), the marker age after which another node takes it.
    // Removes the node's devices of every other incarnation from both tables (the registry's readers ignore them already;
    // this frees them). Returns before, after, how many entries of the number remain (the new incarnation's: the user stays
    // in the node's set), the marker written for this reaper (nil: none), and 1 when another live reaper's marker is pending.
    // A marker ("reaper now before") records a change not yet told: its owner (retrying) or anyone after `stale` ms (its
    // owner died) reports it from the marker's "before"; while another reaper's marker is fresh, nothing is reported here.
    private const string ReapScript = Best + """

        local function dead(v)
          local o = string.match(v, '^(%d+)$') or owner(v)
          return o == ARGV[1] and (ARGV[2] == '' or incarnation(v) ~= ARGV[2])
        end
        local before = best(KEYS[1])
        local left = 0
        for k = 1, 2 do
          local all = redis.call('HGETALL', KEYS[k])
          for i = 1, #all, 2 do
            local v = all[i + 1]
            if dead(v) then redis.call('HDEL', KEYS[k], all[i])
            elseif (string.match(v, '^(%d+)$') or owner(v)) == ARGV[1] then left = left + 1 end
          end
        end
        local after = best(KEYS[1])
        local mark = redis.call('HGET', KEYS[3], ARGV[1])
        local mine = before ~= after
        if mark then
          local by, at, b = string.match(mark, '^(%d+) (%d+) (%d)$')
          if b and by ~= ARGV[3] and tonumber(ARGV[4]) - tonumber(at) < tonumber(ARGV[5]) then
            return {after, after, left + 1, false, 1}
          end
          if b then before = tonumber(b) end
          mine = true
        end
        if not mine then return {before, after, left, false, 0} end
        local written = ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. before
        redis.call('HSET', KEYS[3], ARGV[1], written)
        return {before, after, left, written, 0}
        """;

    // Deletes this reaper's marker once the change is told (only while it is still the one written).
    private const string ToldScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 0
        """;

    // The number's reap flag: the value of an attempt under way or failed, or this attempt's token if none stands.
    private const string FlagScript = """
        local v = redis.call('GET', KEYS[1])
        if not v then redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1] end
        return v
        """;

    private const string UnflagScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    // Users reaped per pipelined round: a dead node of 100,000 devices is 100 rounds, none holding much memory, and its
    // friends hear of each round's changes as it ends rather than after the whole node.
    private const int ReapChunk = 1000;

    /// <summary>
    /// A reaper's marker older than this is taken over by another reaper (its owner died between its scripts and its
    /// tell). 15 s, the default lease TTL: a live reaper tells a round's changes within a second or two, even loaded.
    /// </summary>
    public const long StaleMarkerMs = 15_000;

    /// <summary>A user's pending reap changes: field = the dead node number, value = "reaper now before". The user's tag,
    /// so it shares the slot of the user's presence and registry hashes and one script touches all three.</summary>
    public static RedisKey MarkerKey(uint userId) => "qk:reaped:{" + userId + "}";

    public Task<int> ReapNodeAsync(int dead, Func<IReadOnlyList<ClusterChange>, Task> tell, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = Redis.GetDatabase();
            var flag = (string)(await db.ScriptEvaluateAsync(FlagScript, [NodeLease.ReapingKey(dead)], [Guid.NewGuid().ToString("N")]))!;
            var users = await db.SetMembersAsync(UsersKey(dead));
            int told = 0;
            bool foreign = false;
            for (int i = 0; i < users.Length; i += ReapChunk)
            {
                ct.ThrowIfCancellationRequested();
                var (changes, pending) = await ReapChunkAsync(db, dead, users.AsMemory(i, Math.Min(ReapChunk, users.Length - i)), tell);
                told += changes;
                foreign |= pending;
            }
            // Done: no retry needed, unless another reaper's change is still pending (it clears it, or, if it died, the
            // next attempt takes its stale marker: the flag keeps the attempts coming).
            if (!foreign) await db.ScriptEvaluateAsync(UnflagScript, [NodeLease.ReapingKey(dead)], [flag]);
            return told;
        });

    private async Task<(int Changes, bool ForeignPending)> ReapChunkAsync(IDatabase db, int dead, ReadOnlyMemory<RedisValue> chunk,
        Func<IReadOnlyList<ClusterChange>, Task> tell)
    {
        // Who holds the number now, read again for every round: a process that took it meanwhile (started at once under the
        // same number) keeps its devices. Its own start-up reap reads itself here.
        string holder = NodeLease.IncarnationOf(await db.StringGetAsync(NodeLease.Key(dead))) ?? "";
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var gone = new List<RedisValue>(chunk.Length);
        var steps = new List<(uint User, Task<RedisResult> Step)>(chunk.Length);
        var batch = db.CreateBatch();
        foreach (var member in chunk.Span)
        {
            if (!member.TryParse(out long id) || id is <= 0 or > uint.MaxValue)
            {
                gone.Add(member);
                continue;
            }
            uint user = (uint)id;
            steps.Add((user, batch.ScriptEvaluateAsync(ReapScript, [Key(user), RouteRegistry.Key(user), MarkerKey(user)],
                [dead, holder, Node, now, StaleMarkerMs])));
        }
        batch.Execute();
        // A failed script fails the attempt, after all of them settled: the markers of those that ran stay for the retry.
        await Task.WhenAll(steps.Select(s => s.Step));
        var changes = new List<ClusterChange>();
        var markers = new List<(uint User, string Written)>();
        bool foreign = false;
        foreach (var (user, step) in steps)
        {
            var result = (RedisResult[])step.Result!;
            var change = Change(user, result[0], result[1]);
            if (change.Before != change.After) changes.Add(change);
            if (!result[3].IsNull) markers.Add((user, (string)result[3]!));
            foreign |= (int)result[4] == 1;
            // The new holder's users (and users whose change another reaper tells) stay in the set.
            if ((int)result[2] == 0) gone.Add(user);
        }
        if (changes.Count > 0) await tell(changes);
        // Told: the markers go, then the users leave the set (in this order, so a failure in between leaves a marker whose
        // user is still found by the next attempt).
        var cleared = db.CreateBatch();
        var clears = markers.Select(m => cleared.ScriptEvaluateAsync(ToldScript, [MarkerKey(m.User)], [dead, m.Written])).ToList();
        cleared.Execute();
        await Task.WhenAll(clears);
        if (gone.Count > 0) await db.SetRemoveAsync(UsersKey(dead), gone.ToArray());
        return (changes.Count, foreign);
    }

    /// <summary>The reap's changes as one list (tests and tools; the presence worker tells them round by round).</summary>
    public async Task<IReadOnlyList<ClusterChange>> ReapNodeAsync(int dead, CancellationToken ct)
    {
        var all = new List<ClusterChange>();
        await ReapNodeAsync(dead, changes =>
        {
            all.AddRange(changes);
            return Task.CompletedTask;
        }, ct);
        return all;
    }
}
