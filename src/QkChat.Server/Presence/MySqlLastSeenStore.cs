using MySqlConnector;
using QkChat.Core.Presence;
using QkChat.Server.Storage;

namespace QkChat.Server.Presence;

public sealed class MySqlLastSeenStore(MySqlDataSource db) : ILastSeenStore
{
    public Task SetLastSeenAsync(uint userId, long at, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand("UPDATE users SET last_seen_at = GREATEST(COALESCE(last_seen_at, 0), @at) WHERE user_id = @id", connection);
            command.Parameters.AddWithValue("@at", at);
            command.Parameters.AddWithValue("@id", userId);
            await command.ExecuteNonQueryAsync(ct);
        });
}
