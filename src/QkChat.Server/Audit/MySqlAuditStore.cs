using QkChat.Server.Storage;
using System.Text;
using MySqlConnector;
using QkChat.Core.Audit;

namespace QkChat.Server.Audit;

/// <summary>What `qkchatd audit` asks for: at least one of user and IP, optionally a start time.</summary>
public sealed record AuditQuery(uint? UserId, string? Ip, long? SinceMs, int Limit);

/// <summary>One stored row, every column (operators see the detail class and the user id too).</summary>
public sealed record AuditEntry(long EventId, long At, string Event, uint? UserId, string? ClientId, string? Device,
    string? Ip, bool Ok, string? Detail);

/// <summary>
/// The audit_events table (sql/0004_audit.sql): batched inserts for the writer, a user's own events for
/// get_security_events, the operator query and the retention deletes. Every statement is parameterized.
/// </summary>
public sealed class MySqlAuditStore(MySqlDataSource db) : IAuditSink, ISecurityEventStore
{
    // Column widths of the table: a longer value (only from a bug) is cut rather than failing the whole batch.
    private const int ClientIdWidth = 64, DeviceWidth = 64, IpWidth = 45, DetailWidth = 32;

    private static readonly string VisibleList = string.Join(",", SecurityEventService.UserVisible.Select((_, i) => "@e" + i));

    public Task WriteAsync(IReadOnlyList<AuditRow> batch, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var sql = new StringBuilder("INSERT INTO audit_events (at, event, user_id, client_id, device, ip, outcome, detail) VALUES ");
            await using var insert = new MySqlCommand { Connection = connection };
            for (int i = 0; i < batch.Count; i++)
            {
                var (at, r) = batch[i];
                if (i > 0) sql.Append(',');
                sql.Append($"(@a{i},@e{i},@u{i},@c{i},@d{i},@i{i},@o{i},@x{i})");
                insert.Parameters.AddWithValue($"@a{i}", at);
                insert.Parameters.AddWithValue($"@e{i}", r.Event.Name());
                insert.Parameters.AddWithValue($"@u{i}", r.UserId);
                insert.Parameters.AddWithValue($"@c{i}", Cut(r.ClientId, ClientIdWidth));
                insert.Parameters.AddWithValue($"@d{i}", Cut(r.Device, DeviceWidth));
                insert.Parameters.AddWithValue($"@i{i}", Cut(r.Ip, IpWidth));
                insert.Parameters.AddWithValue($"@o{i}", r.Ok ? 1 : 0);
                insert.Parameters.AddWithValue($"@x{i}", Cut(r.Detail, DetailWidth));
            }
            insert.CommandText = sql.ToString();
            await insert.ExecuteNonQueryAsync(ct);
        });

    private static string? Cut(string? value, int width) => value is { Length: var n } && n > width ? value[..width] : value;

    public Task<IReadOnlyList<SecurityEvent>> ListAsync(uint userId, long? beforeId, int limit, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<SecurityEvent>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // ix_audit_user (user_id, event_id) read backwards from `before`: the page costs `limit` rows plus the
            // rare operator-only rows the IN list skips.
            await using var command = new MySqlCommand(
                "SELECT event_id, event, at, client_id, device, ip, outcome FROM audit_events " +
                $"WHERE user_id = @u AND event_id < @b AND event IN ({VisibleList}) ORDER BY event_id DESC LIMIT @n", connection);
            command.Parameters.AddWithValue("@u", userId);
            command.Parameters.AddWithValue("@b", beforeId ?? long.MaxValue);
            command.Parameters.AddWithValue("@n", limit);
            for (int i = 0; i < SecurityEventService.UserVisible.Length; i++)
                command.Parameters.AddWithValue("@e" + i, SecurityEventService.UserVisible[i]);
            var list = new List<SecurityEvent>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                list.Add(new SecurityEvent(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), Text(reader, 3),
                    Text(reader, 4), Text(reader, 5), reader.GetByte(6) == 1));
            return list;
        });

    /// <summary>The operator's view, newest first: every event class and column.</summary>
    public Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditQuery query, CancellationToken ct) =>
        BackendErrors.Guard<IReadOnlyList<AuditEntry>>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            long firstId = 0;
            if (query.SinceMs is { } since)
            {
                // Ids grow with time, so "since" becomes an id bound found through ix_audit_at: the main query then
                // stays a range of (user_id, event_id) or (ip, event_id) instead of filtering every row of the user.
                await using var first = new MySqlCommand("SELECT MIN(event_id) FROM audit_events WHERE at >= @s", connection);
                first.Parameters.AddWithValue("@s", since);
                if (await first.ExecuteScalarAsync(ct) is not ulong id) return [];
                firstId = (long)id;
            }
            var where = new List<string> { "event_id >= @f" };
            await using var command = new MySqlCommand { Connection = connection };
            command.Parameters.AddWithValue("@f", firstId);
            if (query.UserId is { } user)
            {
                where.Add("user_id = @u");
                command.Parameters.AddWithValue("@u", user);
            }
            if (query.Ip is { } ip)
            {
                where.Add("ip = @i");
                command.Parameters.AddWithValue("@i", ip);
            }
            command.Parameters.AddWithValue("@n", query.Limit);
            command.CommandText = "SELECT event_id, at, event, user_id, client_id, device, ip, outcome, detail FROM audit_events " +
                $"WHERE {string.Join(" AND ", where)} ORDER BY event_id DESC LIMIT @n";
            var list = new List<AuditEntry>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                list.Add(new AuditEntry(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetUInt32(3), Text(reader, 4), Text(reader, 5), Text(reader, 6),
                    reader.GetByte(7) == 1, Text(reader, 8)));
            return list;
        });

    /// <summary>Deletes at most <paramref name="batch"/> rows older than <paramref name="cutoffMs"/>; returns how many.</summary>
    public Task<int> DeleteOlderThanAsync(long cutoffMs, int batch, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Small batches through ix_audit_at: each DELETE holds its row locks for milliseconds, never the table.
            await using var command = new MySqlCommand("DELETE FROM audit_events WHERE at < @c LIMIT @n", connection);
            command.Parameters.AddWithValue("@c", cutoffMs);
            command.Parameters.AddWithValue("@n", batch);
            return await command.ExecuteNonQueryAsync(ct);
        });

    private static string? Text(MySqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
