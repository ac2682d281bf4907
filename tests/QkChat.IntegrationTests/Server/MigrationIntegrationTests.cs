using Microsoft.Extensions.Logging.Abstractions;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Storage;
using Xunit;

namespace QkChat.IntegrationTests.Server;

public sealed class MigrationIntegrationTests
{
    private static Migrator MigratorFor(TempDatabase db, IReadOnlyList<Migration>? known = null) =>
        new(db.DataSource, known ?? Migration.Embedded(), NullLogger.Instance);

    [Fact(Timeout = 60_000)]
    public async Task Migrating_twice_applies_everything_once_and_then_nothing()
    {
        await using var db = await TempDatabase.CreateAsync();
        int known = Migration.Embedded().Count;
        Assert.Equal(known, await MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken));
        Assert.Equal(known, await db.ScalarAsync("SELECT COUNT(*) FROM schema_migrations"));
        Assert.Empty(await MigratorFor(db).PendingAsync(TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_table_and_text_column_is_utf8mb4()
    {
        await using var db = await TempDatabase.CreateAsync();
        await MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, await db.ScalarAsync(
            $"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}' AND TABLE_COLLATION NOT LIKE 'utf8mb4%'"));
        Assert.Equal(0, await db.ScalarAsync(
            $"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{db.Name}' AND CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME <> 'utf8mb4'"));
        // Chinese text and emoji survive the round trip.
        await db.ExecuteAsync("INSERT INTO users VALUES (123456789, 'alice', 'a@x.org', 'h', 0, 0, NULL)");
        await db.ExecuteAsync("INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, content, created_at) VALUES (1, 123456789, 123456789, 123456789, 123456789, '你好 😀', 0)");
        Assert.Equal(1, await db.ScalarAsync("SELECT COUNT(*) FROM messages WHERE content = '你好 😀'"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_schema_newer_than_the_binary_is_refused()
    {
        await using var db = await TempDatabase.CreateAsync();
        await MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken);
        await db.ExecuteAsync("INSERT INTO schema_migrations VALUES (9999, 'future', REPEAT('0', 64), 0)");
        var e = await Assert.ThrowsAsync<SchemaMismatchException>(() => MigratorFor(db).PendingAsync(TestContext.Current.CancellationToken));
        Assert.Contains("9999", e.Message);
        Assert.Contains("newer than this qkchatd knows", e.Message);
        await Assert.ThrowsAsync<SchemaMismatchException>(() => MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_edited_landed_migration_is_refused()
    {
        await using var db = await TempDatabase.CreateAsync();
        await MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken);
        var edited = Migration.Embedded().Select(m => m.Version == 1 ? m with { Sql = m.Sql + "\n-- edited" } : m).ToList();
        var e = await Assert.ThrowsAsync<SchemaMismatchException>(() => MigratorFor(db, edited).PendingAsync(TestContext.Current.CancellationToken));
        Assert.Contains("must never be edited", e.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_migration_is_not_recorded_and_later_ones_do_not_run()
    {
        await using var db = await TempDatabase.CreateAsync();
        var broken = Migration.Embedded().Append(new Migration(9001, "broken", "INSERT INTO no_such_table VALUES (1)"))
            .Append(new Migration(9002, "after", "CREATE TABLE after_broken (id INT)")).ToList();
        await Assert.ThrowsAnyAsync<MySqlConnector.MySqlException>(() => MigratorFor(db, broken).MigrateAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM schema_migrations WHERE version >= 9001"));
        Assert.Equal(0, await db.ScalarAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}' AND TABLE_NAME = 'after_broken'"));
        // The good ones stay applied and the next run picks up where it stopped.
        Assert.Equal(0, await MigratorFor(db).MigrateAsync(TestContext.Current.CancellationToken));
    }
}
