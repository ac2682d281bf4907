using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Core.Accounts;
using QkChat.Server.Configuration;
using QkChat.Server.Security;
using QkChat.Server.Storage;

namespace QkChat.Server.Hosting;

/// <summary>
/// `qkchatd provision-users`: the bulk path that creates load-test accounts P000000..P(N-1) straight in MariaDB
/// (issue 6 item 4). Registering through the protocol would cost one e-mail code and one Argon2id hash per user;
/// here the password is hashed once and every user shares that hash, which is fine for load tests and nothing else.
/// Idempotent: the username unique key turns a user that already exists into a no-op, so runs reuse the accounts.
/// `--friends pairs` also makes users 2k and 2k+1 friends, which the load generator's chat scenario needs, and
/// `--friends groups:SIZE` the first user of each block of SIZE friends with the rest, for its group scenario
/// (<see cref="ProvisioningFriends"/>).
/// </summary>
public static class Provisioning
{
    /// <summary>The command's own options, claimed by <see cref="CommandLine"/> before configuration overrides.</summary>
    public static readonly string[] OptionNames = ["count", "prefix", "password", "friends"];

    // The index is printed with 6 digits (P000000), so a million users per prefix; use another prefix for more.
    private const int MaxCount = 1_000_000;
    private const string IndexFormat = "D6";

    // ~1000 rows per INSERT: 5 parameters a row stays far below max_allowed_packet (16 MiB by default in
    // MariaDB 10.6+) and the 65,535 placeholders of a prepared statement, while one round trip covers many users.
    internal const int BatchSize = 1000;

    // The same id range and reasoning as MySqlUserStore: a fresh random id per try, and a bound on the loop.
    private const int MinUserId = 100_000_000, MaxUserIdExclusive = 1_000_000_000;
    private const int IdAttempts = 10;

    /// <summary>The reserved TLD of RFC 2606: no mail to these addresses can ever be delivered.</summary>
    public const string EmailDomain = "loadgen.invalid";

    public static string Username(string prefix, int index) => prefix + index.ToString(IndexFormat, CultureInfo.InvariantCulture);

    public static async Task<int> RunAsync(CommandLine line, ServerOptions options, ILoggerFactory loggerFactory)
    {
        (int count, string prefix, string password, int block) = ReadOptions(line);
        var logger = loggerFactory.CreateLogger("Provisioning");
        await using var dataSource = Backends.CreateDataSource(options.Database);
        await Backends.WaitForDatabaseAsync(dataSource, options.Database, options.Lifecycle.StartupRetrySeconds, logger, CancellationToken.None);
        await ServerHost.EnsureSchemaAsync(dataSource, options, loggerFactory, CancellationToken.None);

        string hash = new Argon2idPasswordHasher(options.Passwords.MemoryKiB, options.Passwords.Iterations).Hash(password);
        long created = 0, existed = 0;
        await using var connection = await dataSource.OpenConnectionAsync();
        for (int start = 0; start < count; start += BatchSize)
        {
            var names = new List<string>(Math.Min(BatchSize, count - start));
            for (int i = start; i < Math.Min(count, start + BatchSize); i++) names.Add(Username(prefix, i));
            var missing = await MissingAsync(connection, names);
            existed += names.Count - missing.Count;
            for (int attempt = 0; missing.Count > 0; attempt++)
            {
                if (attempt == IdAttempts)
                    throw new StartupException(
                        $"could not create {missing[0]} and {missing.Count - 1} more: their e-mail ({missing[0]}@{EmailDomain}) may belong to another user");
                created += await InsertAsync(connection, missing, hash);
                // A row left out was an id collision (or a concurrent run): draw new ids for those only.
                missing = await MissingAsync(connection, missing);
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"provision-users: {created} created, {existed} existed ({Username(prefix, 0)}..{Username(prefix, count - 1)}, e-mail USERNAME@{EmailDomain}, one shared password hash m={options.Passwords.MemoryKiB} KiB t={options.Passwords.Iterations})"));
        if (block == 2)
        {
            (long rowsCreated, long rowsExisted) = await ProvisioningFriends.BefriendBlocksAsync(connection, prefix, count, block);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"provision-users: friendship rows {rowsCreated} created, {rowsExisted} existed ({count / 2} pairs, two rows each: {Username(prefix, 0)}+{Username(prefix, 1)} .. {Username(prefix, count - 2)}+{Username(prefix, count - 1)})"));
        }
        else if (block > 2)
        {
            (long rowsCreated, long rowsExisted) = await ProvisioningFriends.BefriendBlocksAsync(connection, prefix, count, block);
            int blocks = (count + block - 1) / block;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"provision-users: friendship rows {rowsCreated} created, {rowsExisted} existed ({blocks} blocks of up to {block}, the first of each befriends the rest: {Username(prefix, 0)}+{Username(prefix, 1)}..{Username(prefix, Math.Min(count, block) - 1)} ..)"));
        }
        return ExitCodes.Ok;
    }

    private static (int Count, string Prefix, string Password, int Block) ReadOptions(CommandLine line)
    {
        var o = line.CommandOptions;
        if (!o.TryGetValue("count", out string? countText) || !o.TryGetValue("prefix", out string? prefix) || !o.TryGetValue("password", out string? password))
            throw new ConfigException("provision-users needs --count N --prefix P --password PW");
        if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count is < 1 or > MaxCount)
            throw new ConfigException($"--count: '{countText}' is not a whole number from 1 to {MaxCount}");
        // Both ends of the range must be valid usernames: the rule is on length and characters, so checking the
        // first and the last covers every index in between.
        if (InputRules.Username(Username(prefix, 0)) is not null || InputRules.Username(Username(prefix, count - 1)) is not null)
            throw new ConfigException($"--prefix: '{prefix}' plus a 6-digit index is not a valid username (at most 26 letters, digits or _, not all digits)");
        if (InputRules.Password(password, "password") is string badPassword)
            throw new ConfigException("--" + badPassword);
        int block = ProvisioningFriends.ReadMode(o, count);
        return (count, prefix, password, block);
    }

    /// <summary>The names among <paramref name="names"/> that no user has (ignoring case, as the unique key does).</summary>
    private static async Task<List<string>> MissingAsync(MySqlConnection connection, List<string> names)
    {
        var sql = new StringBuilder("SELECT username FROM users WHERE username IN (");
        await using var command = new MySqlCommand { Connection = connection };
        for (int i = 0; i < names.Count; i++)
        {
            sql.Append(i == 0 ? "@u0" : ",@u" + i.ToString(CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("@u" + i.ToString(CultureInfo.InvariantCulture), names[i]);
        }
        command.CommandText = sql.Append(')').ToString();
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) present.Add(reader.GetString(0));
        }
        return names.Where(n => !present.Contains(n)).ToList();
    }

    /// <summary>One multi-row INSERT IGNORE with fresh random ids; returns the rows actually inserted.</summary>
    private static async Task<int> InsertAsync(MySqlConnection connection, List<string> names, string hash)
    {
        var sql = new StringBuilder("INSERT IGNORE INTO users (user_id, username, email, password_hash, created_at, updated_at) VALUES ");
        await using var command = new MySqlCommand { Connection = connection };
        command.Parameters.AddWithValue("@h", hash);
        command.Parameters.AddWithValue("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        for (int i = 0; i < names.Count; i++)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(@i{n},@u{n},@e{n},@h,@t,@t)");
            command.Parameters.AddWithValue("@i" + n, (uint)RandomNumberGenerator.GetInt32(MinUserId, MaxUserIdExclusive));
            command.Parameters.AddWithValue("@u" + n, names[i]);
            command.Parameters.AddWithValue("@e" + n, names[i] + "@" + EmailDomain);
        }
        command.CommandText = sql.ToString();
        return await command.ExecuteNonQueryAsync();
    }
}
