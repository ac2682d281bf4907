using Microsoft.Extensions.Logging;
using MySqlConnector;
using ZLogger;

namespace QkChat.Server.Storage;

/// <summary>The schema is newer than this binary, or an applied migration differs from the one shipped.</summary>
public sealed class SchemaMismatchException(string message) : Exception(message);

/// <summary>
/// Applies the migrations not yet recorded in schema_migrations, one transaction each, under a named lock so
/// nodes starting together do not race. MariaDB commits DDL implicitly, so the transaction guarantees the
/// data statements and the version row; the DDL is written idempotent (IF NOT EXISTS) and can simply re-run.
/// </summary>
public sealed partial class Migrator(MySqlDataSource dataSource, IReadOnlyList<Migration> known, ILogger logger)
{
    private const string LockName = "qkchat.schema_migrations";

    // A second node waits this long for the first to finish migrating: a migration of an empty database takes
    // well under a second; large ALTERs should be run by hand with `qkchatd migrate` anyway.
    private const int LockWaitSeconds = 120;

    public int KnownVersion => known.Count == 0 ? 0 : known[^1].Version;

    /// <summary>Applies what is pending; returns how many migrations ran.</summary>
    public async Task<int> MigrateAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await EnsureTableAsync(connection, ct);
        await ExecuteScalarAsync(connection, $"SELECT GET_LOCK('{LockName}', {LockWaitSeconds})", ct);
        try
        {
            var applied = await ReadAppliedAsync(connection, ct);
            CheckCompatible(applied);
            int count = 0;
            foreach (var migration in known)
            {
                if (applied.ContainsKey(migration.Version)) continue;
                await ApplyAsync(connection, migration, ct);
                count++;
            }
            LogUpToDate(logger, KnownVersion, count);
            return count;
        }
        finally
        {
            await ExecuteScalarAsync(connection, $"SELECT RELEASE_LOCK('{LockName}')", CancellationToken.None);
        }
    }

    /// <summary>Returns the versions applied but not yet known to run, or throws when the schema is too new.</summary>
    public async Task<IReadOnlyList<int>> PendingAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await EnsureTableAsync(connection, ct);
        var applied = await ReadAppliedAsync(connection, ct);
        CheckCompatible(applied);
        return known.Where(m => !applied.ContainsKey(m.Version)).Select(m => m.Version).ToList();
    }

    private void CheckCompatible(Dictionary<int, string> applied)
    {
        foreach (var (version, checksum) in applied)
        {
            if (version > KnownVersion)
                throw new SchemaMismatchException(
                    $"the database schema is at version {applied.Keys.Max()}, newer than this qkchatd knows ({KnownVersion}): " +
                    "run a qkchatd at least as new as the one that migrated it");
            var mine = known.FirstOrDefault(m => m.Version == version);
            if (mine is not null && !string.Equals(mine.Checksum, checksum, StringComparison.Ordinal))
                throw new SchemaMismatchException(
                    $"migration {version} ({mine.Name}) was applied with different contents than this qkchatd ships: " +
                    "landed migrations must never be edited; add a new one instead");
        }
    }

    private async Task ApplyAsync(MySqlConnection connection, Migration migration, CancellationToken ct)
    {
        long started = Environment.TickCount64;
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var command = new MySqlCommand(migration.Sql, connection, tx))
            await command.ExecuteNonQueryAsync(ct);
        await using (var record = new MySqlCommand(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (@v, @n, @c, @t)", connection, tx))
        {
            record.Parameters.AddWithValue("@v", migration.Version);
            record.Parameters.AddWithValue("@n", migration.Name);
            record.Parameters.AddWithValue("@c", migration.Checksum);
            record.Parameters.AddWithValue("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await record.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        LogApplied(logger, migration.Version, migration.Name, Environment.TickCount64 - started);
    }

    private static async Task EnsureTableAsync(MySqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     INT          NOT NULL PRIMARY KEY,
                name        VARCHAR(200) NOT NULL,
                checksum    CHAR(64)     NOT NULL,
                applied_at  BIGINT       NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """;
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(MySqlConnection connection, CancellationToken ct)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new MySqlCommand("SELECT version, checksum FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            applied[reader.GetInt32(0)] = reader.GetString(1);
        return applied;
    }

    private static async Task ExecuteScalarAsync(MySqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteScalarAsync(ct);
    }

    [ZLoggerMessage(LogLevel.Information, "applied migration {version} ({name}) in {elapsedMs} ms")]
    private static partial void LogApplied(ILogger logger, int version, string name, long elapsedMs);

    [ZLoggerMessage(LogLevel.Information, "schema is at version {version} ({appliedNow} applied now)")]
    private static partial void LogUpToDate(ILogger logger, int version, int appliedNow);
}
