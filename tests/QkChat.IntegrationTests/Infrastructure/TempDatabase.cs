using MySqlConnector;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>A throwaway database (qkchat_test_xxxxxxxx) on the private MariaDB, dropped on dispose.</summary>
internal sealed class TempDatabase : IAsyncDisposable
{
    public string Name { get; } = "qkchat_test_" + Guid.NewGuid().ToString("N")[..8];

    public MySqlDataSource DataSource { get; }

    private TempDatabase() => DataSource = new MySqlDataSource(TestStack.ConnectionString(Name));

    public static async Task<TempDatabase> CreateAsync()
    {
        var db = new TempDatabase();
        await db.ExecuteOnServerAsync($"CREATE DATABASE `{db.Name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        return db;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new MySqlConnection(TestStack.ConnectionString(""));
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS `{Name}`");
    }
}
