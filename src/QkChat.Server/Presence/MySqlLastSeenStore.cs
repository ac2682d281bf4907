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

    // Ids per statement: 1,000 numbers keep a statement near 11 KB, far below max_allowed_packet.
    private const int IdsPerStatement = 1000;

    public Task SetLastSeenAsync(IReadOnlyList<uint> userIds, long at, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            if (userIds.Count == 0) return;
            await using var connection = await db.OpenConnectionAsync(ct);
            for (int i = 0; i < userIds.Count; i += IdsPerStatement)
            {
                // The ids are numbers, written into the statement as such (no user text reaches it).
                string ids = string.Join(',', userIds.Skip(i).Take(IdsPerStatement));
                await using var command = new MySqlCommand(
                    $"UPDATE users SET last_seen_at = GREATEST(COALESCE(last_seen_at, 0), @at) WHERE user_id IN ({ids})", connection);
                command.Parameters.AddWithValue("@at", at);
                await command.ExecuteNonQueryAsync(ct);
            }
        });
}
