using System.Globalization;
using System.Text;
using MySqlConnector;
using QkChat.Server.Configuration;

namespace QkChat.Server.Hosting;

/// <summary>
/// `provision-users --friends pairs|groups:SIZE`: friendships laid out in blocks of consecutive users, both rows of
/// `friendships` as a mutual friend request would leave them. `pairs`: users 2k and 2k+1 (the load generator's chat
/// scenario, pairs of friends messaging each other). `groups:SIZE`: in each block of SIZE users from a multiple of
/// SIZE on, the first befriends every other one, which is what add_group_members asks of the group's creator
/// (qkchat-loadgen group); `pairs` is `groups:2`. Straight in MariaDB like the users, in multi-row INSERT IGNORE
/// batches; idempotent through the (user_id, friend_id) primary key. A server already running keeps friend sets it
/// cached for users online on it: provision before the run (a user's set is reloaded when they log in again).
/// </summary>
public static class ProvisioningFriends
{
    /// <summary>Values of --friends: no friendships (the default), 2k with 2k+1, or blocks of SIZE ("groups:SIZE").</summary>
    public const string None = "none", Pairs = "pairs", GroupsPrefix = "groups:";

    /// <summary>Largest block of groups:SIZE: qkchatd's largest allowed group.max_members would be the natural bound,
    /// but a block is one SELECT of SIZE names, so 10,000 keeps its placeholders far below the 65,535 a statement takes.</summary>
    public const int MaxBlock = 10_000;

    /// <summary>The block size --friends asks for: 0 for none, 2 for `pairs` (the count must then be even, so that
    /// every user has a partner), SIZE for `groups:SIZE` (2..10,000; the last block may be shorter).</summary>
    public static int ReadMode(IReadOnlyDictionary<string, string> options, int count)
    {
        if (!options.TryGetValue("friends", out string? mode) || mode == None) return 0;
        if (mode == Pairs)
        {
            if (count % 2 != 0) throw new ConfigException($"--friends pairs needs an even --count (user 2k is paired with 2k+1), not {count}");
            return 2;
        }
        if (mode.StartsWith(GroupsPrefix, StringComparison.Ordinal))
        {
            string size = mode[GroupsPrefix.Length..];
            if (int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out int block) && block is >= 2 and <= MaxBlock) return block;
            throw new ConfigException($"--friends groups:SIZE: '{size}' is not a whole number from 2 to {MaxBlock}");
        }
        throw new ConfigException($"--friends: '{mode}' is not '{Pairs}', '{GroupsPrefix}SIZE' or '{None}'");
    }

    /// <summary>
    /// In every block of <paramref name="block"/> users, the first and each other one become friends; returns (rows
    /// created, rows that existed). Batches hold whole blocks (about <see cref="Provisioning.BatchSize"/> users, one
    /// block at least), so a block never straddles two: one SELECT for the ids, one INSERT for the block's rows.
    /// </summary>
    public static async Task<(long Created, long Existed)> BefriendBlocksAsync(MySqlConnection connection, string prefix, int count, int block)
    {
        long created = 0, existed = 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        int batch = Math.Max(1, Provisioning.BatchSize / block) * block;
        for (int start = 0; start < count; start += batch)
        {
            int end = Math.Min(count, start + batch);
            var names = new List<string>(end - start);
            for (int i = start; i < end; i++) names.Add(Provisioning.Username(prefix, i));
            Dictionary<string, uint> ids = await IdsAsync(connection, names);
            var rows = new List<(uint User, uint Friend)>(2 * names.Count);
            for (int first = 0; first < names.Count; first += block)
            {
                for (int k = first + 1; k < Math.Min(names.Count, first + block); k++)
                {
                    // The users were created just before; a name missing here means someone deleted it meanwhile.
                    if (!ids.TryGetValue(names[first], out uint a) || !ids.TryGetValue(names[k], out uint b))
                        throw new StartupException($"cannot befriend {names[first]} with {names[k]}: one of them does not exist");
                    rows.Add((a, b));
                    rows.Add((b, a));
                }
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
