using QkChat.Server.Storage;
using System.Security.Cryptography;
using MySqlConnector;
using QkChat.Core.Accounts;
using StackExchange.Redis;

namespace QkChat.Server.Accounts;

/// <summary>
/// Device sessions. A token is 32 random bytes (base64url); only its SHA-256 is stored, in MariaDB (the truth) and as
/// a Redis key (the cache that makes login_token cheap: one GET, no key derivation). Revocation deletes the cache
/// entry before it marks the row, so a Redis failure leaves the session untouched instead of half-revoked.
/// </summary>
public sealed class SessionStore(MySqlDataSource db, IConnectionMultiplexer redis, AccountOptions options) : ISessionStore
{
    // The database copy of a sliding expiry is only rewritten when it moved by more than this: a resume stays a
    // cache hit without a write, and an expiry is never more than a day shorter than it should be.
    private static readonly long DbSlideMs = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    private long LifetimeMs => (long)options.TokenLifetime.TotalMilliseconds;

    private static RedisKey CacheKey(byte[] hash) => "qk:tok:" + Convert.ToHexStringLower(hash);

    public Task<DeviceSession> CreateAsync(UserRecord user, string clientId, string? device, string ip, CancellationToken ct) =>
        BackendErrors.Guard("session store", async () =>
        {
            uint userId = user.UserId;
            byte[] raw = RandomNumberGenerator.GetBytes(32);
            string token = Encode(raw);
            byte[] hash = SHA256.HashData(raw);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), expires = now + LifetimeMs;

            await using var connection = await db.OpenConnectionAsync(ct);
            // The device's previous token stops working: drop its cache entry first.
            foreach (var old in await HashesAsync(connection, userId, clientId, ct))
                await redis.GetDatabase().KeyDeleteAsync(CacheKey(old));
            await using var command = new MySqlCommand("""
                INSERT INTO sessions (user_id, client_id, device, token_hash, created_at, last_active_at, expires_at, last_ip, revoked_at)
                VALUES (@u, @c, @d, @h, @t, @t, @e, @ip, NULL)
                ON DUPLICATE KEY UPDATE device = VALUES(device), token_hash = VALUES(token_hash), created_at = VALUES(created_at),
                    last_active_at = VALUES(last_active_at), expires_at = VALUES(expires_at), last_ip = VALUES(last_ip), revoked_at = NULL
                """, connection);
            command.Parameters.AddWithValue("@u", userId);
            command.Parameters.AddWithValue("@c", clientId);
            command.Parameters.AddWithValue("@d", device);
            command.Parameters.AddWithValue("@h", hash);
            command.Parameters.AddWithValue("@t", now);
            command.Parameters.AddWithValue("@e", expires);
            command.Parameters.AddWithValue("@ip", ip);
            await command.ExecuteNonQueryAsync(ct);
            await Cache(hash, new CachedSession(userId, clientId, expires, expires, user.Username, user.Email));
            return new DeviceSession(userId, clientId, token, expires);
        });

    public Task<ResumedSession?> ResumeAsync(string token, string clientId, string ip, CancellationToken ct) =>
        BackendErrors.Guard("session store", async () =>
        {
            if (!TryDecode(token, out byte[] raw)) return null;
            byte[] hash = SHA256.HashData(raw);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var entry = await FromCacheAsync(hash) ?? await FromDatabaseAsync(hash, now, ct);
            if (entry is not { } found || found.Expires <= now || found.ClientId != clientId) return null;
            long dbExpires = found.DbExpires;

            long slid = now + LifetimeMs;
            if (slid - dbExpires > DbSlideMs)
            {
                await using var connection = await db.OpenConnectionAsync(ct);
                await using var command = new MySqlCommand(
                    "UPDATE sessions SET expires_at = @e, last_active_at = @t, last_ip = @ip WHERE token_hash = @h AND revoked_at IS NULL", connection);
                command.Parameters.AddWithValue("@e", slid);
                command.Parameters.AddWithValue("@t", now);
                command.Parameters.AddWithValue("@ip", ip);
                command.Parameters.AddWithValue("@h", hash);
                if (await command.ExecuteNonQueryAsync(ct) == 0) return null; // revoked meanwhile
                dbExpires = slid;
            }
            await Cache(hash, found with { Expires = slid, DbExpires = dbExpires });
            return new ResumedSession(found.UserId, clientId, slid, found.Username, found.Email);
        });

    public Task RevokeAsync(uint userId, string clientId, CancellationToken ct) =>
        RevokeWhereAsync("user_id = @u AND client_id = @c", userId, clientId, ct);

    public async Task<IReadOnlyList<string>> RevokeAllAsync(uint userId, string? exceptClientId, CancellationToken ct) =>
        await RevokeWhereAsync(exceptClientId is null ? "user_id = @u" : "user_id = @u AND client_id <> @c", userId, exceptClientId, ct);

    public Task<IReadOnlyList<DeviceSessionInfo>> ListAsync(uint userId, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<DeviceSessionInfo>>("session store", async () =>
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await using var connection = await db.OpenConnectionAsync(ct);
            // The stored expiry may lag the real (cached) one by up to DbSlideMs, so rows that lapsed within that
            // margin are read too and settled by the cache below. user_id leads uk_sessions_device.
            await using var command = new MySqlCommand("""
                SELECT client_id, device, last_ip, last_active_at, expires_at, token_hash FROM sessions
                WHERE user_id = @u AND revoked_at IS NULL AND expires_at > @since
                ORDER BY last_active_at DESC, client_id
                """, connection);
            command.Parameters.AddWithValue("@u", userId);
            command.Parameters.AddWithValue("@since", now - DbSlideMs);
            var rows = new List<(DeviceSessionInfo Info, long Expires, byte[] Hash)>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    rows.Add((new DeviceSessionInfo(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                        reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3)), reader.GetInt64(4), (byte[])reader.GetValue(5)));
                }
            }
            var live = new List<DeviceSessionInfo>(rows.Count);
            foreach (var (info, expires, hash) in rows)
            {
                // A cache entry lives exactly as long as its token, so it is the word on a lapsed stored expiry.
                if (expires > now || await redis.GetDatabase().KeyExistsAsync(CacheKey(hash))) live.Add(info);
            }
            return live;
        });

    private Task<List<string>> RevokeWhereAsync(string where, uint userId, string? clientId, CancellationToken ct) =>
        BackendErrors.Guard("session store", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var victims = new List<(string ClientId, byte[] Hash)>();
            await using (var select = new MySqlCommand($"SELECT client_id, token_hash FROM sessions WHERE {where} AND revoked_at IS NULL", connection))
            {
                select.Parameters.AddWithValue("@u", userId);
                select.Parameters.AddWithValue("@c", clientId);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) victims.Add((reader.GetString(0), (byte[])reader.GetValue(1)));
            }
            if (victims.Count == 0) return [];
            // One DEL per token, pipelined: the tokens' keys spread over a Redis Cluster's slots, where one DEL of
            // several keys in different slots fails (CROSSSLOT).
            var cache = redis.GetDatabase();
            await Task.WhenAll(victims.Select(v => cache.KeyDeleteAsync(CacheKey(v.Hash))));
            await using var update = new MySqlCommand($"UPDATE sessions SET revoked_at = @t WHERE {where} AND revoked_at IS NULL", connection);
            update.Parameters.AddWithValue("@u", userId);
            update.Parameters.AddWithValue("@c", clientId);
            update.Parameters.AddWithValue("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await update.ExecuteNonQueryAsync(ct);
            return victims.Select(v => v.ClientId).ToList();
        });

    private static async Task<List<byte[]>> HashesAsync(MySqlConnection connection, uint userId, string clientId, CancellationToken ct)
    {
        await using var command = new MySqlCommand("SELECT token_hash FROM sessions WHERE user_id = @u AND client_id = @c", connection);
        command.Parameters.AddWithValue("@u", userId);
        command.Parameters.AddWithValue("@c", clientId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var hashes = new List<byte[]>();
        while (await reader.ReadAsync(ct)) hashes.Add((byte[])reader.GetValue(0));
        return hashes;
    }

    /// <summary>
    /// A token's cache entry: the session and what a login answer shows of its user (usernames and e-mails never
    /// change, and a password change or reset revokes the tokens), so a resume reads no user row.
    /// </summary>
    internal readonly record struct CachedSession(uint UserId, string ClientId, long Expires, long DbExpires, string Username, string Email);

    // "user|expires|dbExpires|clientIdLength|clientId" + "username|email": the client id is free text and cut by its
    // length; a username has no '|' (InputRules), so the e-mail is whatever follows it. Entries of the older
    // four-field form do not parse and are read from MariaDB once more.
    private async Task Cache(byte[] hash, CachedSession s)
    {
        long ttl = s.Expires - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (ttl <= 0) return;
        await redis.GetDatabase().StringSetAsync(CacheKey(hash), FormatCached(s), TimeSpan.FromMilliseconds(ttl));
    }

    internal static string FormatCached(CachedSession s) =>
        $"{s.UserId}|{s.Expires}|{s.DbExpires}|{s.ClientId.Length}|{s.ClientId}{s.Username}|{s.Email}";

    private async Task<CachedSession?> FromCacheAsync(byte[] hash)
    {
        string? value = await redis.GetDatabase().StringGetAsync(CacheKey(hash));
        return value is null ? null : ParseCached(value);
    }

    internal static CachedSession? ParseCached(string value)
    {
        string[] p = value.Split('|', 5);
        if (p.Length != 5 || !uint.TryParse(p[0], out uint user) || !long.TryParse(p[1], out long expires)
            || !long.TryParse(p[2], out long dbExpires) || !int.TryParse(p[3], out int clientLength) || clientLength < 0 || clientLength > p[4].Length)
            return null;
        string rest = p[4][clientLength..];
        int bar = rest.IndexOf('|', StringComparison.Ordinal);
        if (bar <= 0) return null;
        return new CachedSession(user, p[4][..clientLength], expires, dbExpires, rest[..bar], rest[(bar + 1)..]);
    }

    private async Task<CachedSession?> FromDatabaseAsync(byte[] hash, long now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand(
            "SELECT s.user_id, s.client_id, s.expires_at, u.username, u.email FROM sessions s JOIN users u ON u.user_id = s.user_id " +
            "WHERE s.token_hash = @h AND s.revoked_at IS NULL AND s.expires_at > @t", connection);
        command.Parameters.AddWithValue("@h", hash);
        command.Parameters.AddWithValue("@t", now);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        long expires = reader.GetInt64(2);
        return new CachedSession(reader.GetUInt32(0), reader.GetString(1), expires, expires, reader.GetString(3), reader.GetString(4));
    }

    private static bool TryDecode(string token, out byte[] raw)
    {
        raw = [];
        if (token.Length != 43) return false; // 32 bytes in unpadded base64url
        string b64 = token.Replace('-', '+').Replace('_', '/') + "=";
        try
        {
            raw = Convert.FromBase64String(b64);
            // The last of 43 characters carries two unused bits: four spellings decode to the same 32 bytes. Only the
            // spelling the server issued is the token, so "one character off" never logs in.
            return raw.Length == 32 && string.Equals(token, Encode(raw), StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string Encode(byte[] raw) => Convert.ToBase64String(raw).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
