using System.Globalization;
using System.Text;
using MySqlConnector;
using QkChat.Server.Configuration;

namespace QkChat.Server.Hosting;

/// <summary>
/// `provision-users --friends pairs`: users 2k and 2k+1 become friends, both rows of `friendships` as a mutual
/// friend request would leave them, so the load generator's chat scenario (pairs of friends messaging each other)
/// can run. Straight in MariaDB like the users, in multi-row INSERT IGNORE batches; idempotent through the
/// (user_id, friend_id) primary key. A server already running keeps friend sets it cached for users online on it:
/// provision before the run (a user's set is reloaded when they log in again).
/// </summary>
public static class ProvisioningFriends
{
    /// <summary>Values of --friends: no friendships (the default), or 2k with 2k+1.</summary>
    public const string None = "none", Pairs = "pairs";

    /// <summary>True for `--friends pairs`; the count must then be even, so that every user has a partner.</summary>
    public static bool ReadMode(IReadOnlyDictionary<string, string> options, int count)
    {
        if (!options.TryGetValue("friends", out string? mode) || mode == None) return false;
        if (mode != Pairs) throw new ConfigException($"--friends: '{mode}' is not '{Pairs}' or '{None}'");
        if (count % 2 != 0) throw new ConfigException($"--friends pairs needs an even --count (user 2k is paired with 2k+1), not {count}");
        return true;
    }

    /// <summary>
    /// Makes every pair of the range friends; returns (rows created, rows that existed). Batches follow the users'
    /// (an even size, so a pair never straddles two): one SELECT for the ids, one INSERT for both rows of each pair.
    /// </summary>
    public static async Task<(long Created, long Existed)> PairAsync(MySqlConnection connection, string prefix, int count)
    {
        long created = 0, existed = 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int start = 0; start < count; start += Provisioning.BatchSize)
        {
            int end = Math.Min(count, start + Provisioning.BatchSize);
            var names = new List<string>(end - start);
            for (int i = start; i < end; i++) names.Add(Provisioning.Username(prefix, i));
            Dictionary<string, uint> ids = await IdsAsync(connection, names);
            var rows = new List<(uint User, uint Friend)>(names.Count);
            for (int k = 0; k + 1 < names.Count; k += 2)
            {
                // The users were created just before; a name missing here means someone deleted it meanwhile.
                if (!ids.TryGetValue(names[k], out uint a) || !ids.TryGetValue(names[k + 1], out uint b))
                    throw new StartupException($"cannot pair {names[k]} with {names[k + 1]}: one of them does not exist");
                rows.Add((a, b));
                rows.Add((b, a));
            }
            int inserted = await InsertAsync(connection, rows, now);
            created += inserted;
            existed += rows.Count - inserted;
        }
        return (created, existed);
    }

    /// <summary>user_id by username (the unique key ignores case; the names asked for are the ones created).</summary>
    private static async Task<Dictionary<string, uint>> IdsAsync(MySqlConnection connection, List<string> names)
    {
        var sql = new StringBuilder("SELECT username, user_id FROM users WHERE username IN (");
        await using var command = new MySqlCommand { Connection = connection };
        for (int i = 0; i < names.Count; i++)
        {
            string p = "@u" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? p : "," + p);
            command.Parameters.AddWithValue(p, names[i]);
        }
        command.CommandText = sql.Append(')').ToString();
        var ids = new Dictionary<string, uint>(names.Count, StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids[reader.GetString(0)] = reader.GetUInt32(1);
        return ids;
    }

    /// <summary>One multi-row INSERT IGNORE of friendship rows; returns the rows actually inserted.</summary>
    private static async Task<int> InsertAsync(MySqlConnection connection, List<(uint User, uint Friend)> rows, long now)
    {
        if (rows.Count == 0) return 0;
        var sql = new StringBuilder("INSERT IGNORE INTO friendships (user_id, friend_id, created_at) VALUES ");
        await using var command = new MySqlCommand { Connection = connection };
        command.Parameters.AddWithValue("@t", now);
        for (int i = 0; i < rows.Count; i++)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(@a{n},@b{n},@t)");
            command.Parameters.AddWithValue("@a" + n, rows[i].User);
            command.Parameters.AddWithValue("@b" + n, rows[i].Friend);
        }
        command.CommandText = sql.ToString();
        return await command.ExecuteNonQueryAsync();
    }
}
