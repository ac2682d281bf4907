using QkChat.Server.Storage;
using Xunit;

namespace QkChat.Tests.Server;

public sealed class MigrationTests
{
    [Fact]
    public void Every_sql_file_is_embedded_in_version_order()
    {
        var embedded = Migration.Embedded();
        var files = Directory.GetFiles(Path.Combine(RepoPaths.Root, "sql"), "*.sql").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(files.Count, embedded.Count);
        Assert.Equal(1, embedded[0].Version);
        Assert.Equal(embedded.OrderBy(m => m.Version).Select(m => m.Version), embedded.Select(m => m.Version));
        for (int i = 0; i < files.Count; i++)
            Assert.Equal(files[i], $"{embedded[i].Version:0000}_{embedded[i].Name}.sql");
    }

    [Fact]
    public void The_first_migration_creates_the_tables_chat_needs_in_utf8mb4()
    {
        string sql = Migration.Embedded()[0].Sql;
        foreach (string table in new[] { "users", "sessions", "friend_requests", "friendships", "messages", "offline_deliveries" })
            Assert.Contains($"CREATE TABLE IF NOT EXISTS {table} (", sql);
        int tables = sql.Split("CREATE TABLE").Length - 1;
        Assert.Equal(tables, sql.Split("CHARSET=utf8mb4").Length - 1);
    }
}
