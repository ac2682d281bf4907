using QkChat.Core.Presence;
using QkChat.Server.Storage;
using StackExchange.Redis;

namespace QkChat.Server.Presence;

/// <summary>
/// "Is U online, and where" for the cluster: one hash per user, `qk:presence:{user id}`, whose fields are
/// "node|client_id" and values the time the node last renewed them. The key expires <see cref="Ttl"/> after the
/// last write, and every node rewrites its devices every <see cref="RefreshInterval"/>, so a crashed node's devices
/// disappear within the TTL. The braces are a hash tag: a user's key stays on one Redis Cluster slot.
/// </summary>
public sealed class RedisPresenceDirectory(IConnectionMultiplexer redis, string node) : IPresenceDirectory
{
    /// <summary>Renewal period; three of them make the TTL, so one slow or missed renewal loses nothing.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan Ttl = RefreshInterval * 3;

    private static RedisKey Key(uint userId) => "qk:presence:{" + userId + "}";

    private string Field(string clientId) => node + "|" + clientId;

    public Task DeviceOnlineAsync(uint userId, string clientId, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = redis.GetDatabase();
            var batch = db.CreateBatch();
            var set = batch.HashSetAsync(Key(userId), Field(clientId), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var expire = batch.KeyExpireAsync(Key(userId), Ttl);
            batch.Execute();
            await Task.WhenAll(set, expire);
        });

    public Task DeviceOfflineAsync(uint userId, string clientId, CancellationToken ct) =>
        BackendErrors.Guard("Redis", () => redis.GetDatabase().HashDeleteAsync(Key(userId), Field(clientId)));

    public Task RefreshAsync(IReadOnlyCollection<(uint UserId, string ClientId)> devices, CancellationToken ct) =>
        BackendErrors.Guard("Redis", async () =>
        {
            var db = redis.GetDatabase();
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var batch = db.CreateBatch();
            var writes = new List<Task>(devices.Count * 2);
            foreach (var (userId, clientId) in devices)
            {
                writes.Add(batch.HashSetAsync(Key(userId), Field(clientId), now));
                writes.Add(batch.KeyExpireAsync(Key(userId), Ttl));
            }
            batch.Execute();
            await Task.WhenAll(writes);
        });

    public Task<IReadOnlyList<string>> NodesOfAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<string>>("Redis", async () =>
        {
            var fields = await redis.GetDatabase().HashKeysAsync(Key(userId));
            return fields.Select(f => ((string)f!).Split('|')[0]).Distinct().ToList();
        });
}
