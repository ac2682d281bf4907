using MySqlConnector;
using QkChat.Core.Files;
using QkChat.Server.Storage;

namespace QkChat.Server.Files;

/// <summary>Who may see a file, and what the sweeper deletes.</summary>
public sealed partial class MySqlFileCatalog
{
    /// <summary>
    /// protocol.md §10: the uploader, or whoever sees a message or group entry carrying the file: the sender or receiver
    /// of a message that is not recalled, a current member of a live group whose entry (not recalled) is at or after
    /// their joined seq (the entries their history shows).
    /// </summary>
    private const string VisibleTo =
        "(f.uploader_id = @u " +
        " OR EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.file_id AND m.recalled = 0 AND (m.sender_id = @u OR m.receiver_id = @u)) " +
        " OR EXISTS (SELECT 1 FROM chat_group_entries e " +
        "   JOIN chat_group_members gm ON gm.group_id = e.group_id AND gm.user_id = @u AND gm.state = 0 AND e.seq >= gm.joined_seq " +
        "   JOIN chat_groups g ON g.group_id = e.group_id AND g.dissolved_at IS NULL " +
        "   WHERE e.file_id = f.file_id AND e.recalled = 0))";

    public Task<StoredFile?> VisibleAsync(long fileId, uint userId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command($"SELECT {FileColumns} FROM files f WHERE f.file_id = @f AND {VisibleTo}", connection, null,
                ("@f", fileId), ("@u", userId));
            return await ReadFileAsync(command, ct);
        });

    public Task<StoredFile?> FindAsync(long fileId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command($"SELECT {FileColumns} FROM files f WHERE f.file_id = @f", connection, null, ("@f", fileId));
            return await ReadFileAsync(command, ct);
        });

    public Task<IReadOnlySet<long>> KnownUploadsAsync(IReadOnlyList<long> uploadIds, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            var known = new HashSet<long>();
            await using var connection = await db.OpenConnectionAsync(ct);
            foreach (var chunk in uploadIds.Chunk(500))
            {
                await using var command = new MySqlCommand($"SELECT upload_id FROM file_uploads WHERE upload_id IN ({string.Join(",", chunk)})", connection);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) known.Add(reader.GetInt64(0));
            }
            return (IReadOnlySet<long>)known;
        });

    public Task<IReadOnlyList<long>> ExpiredUploadsAsync(long now, int limit, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command("SELECT upload_id FROM file_uploads WHERE expires_at <= @now ORDER BY expires_at LIMIT @l", connection, null,
                ("@now", now), ("@l", limit));
            var ids = new List<long>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) ids.Add(reader.GetInt64(0));
            return (IReadOnlyList<long>)ids;
        });

    public Task<(int Files, int Contents)> SweepUnreferencedAsync(long createdBefore, int limit, Func<ContentKey, CancellationToken, Task> deleteBytes,
        CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            int files;
            // referenced_at is set when a message carrying the file is stored; the NOT EXISTS checks hold even without it.
            await using (var delete = Command(
                             "DELETE FROM files WHERE referenced_at IS NULL AND created_at <= @b " +
                             "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = files.file_id) " +
                             "AND NOT EXISTS (SELECT 1 FROM chat_group_entries e WHERE e.file_id = files.file_id) LIMIT @l",
                             connection, null, ("@b", createdBefore), ("@l", limit)))
                files = await delete.ExecuteNonQueryAsync(ct);

            var orphans = new List<ContentKey>();
            await using (var find = Command(
                             "SELECT b.sha256, b.size FROM file_blobs b WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256 AND f.size = b.size) LIMIT @l",
                             connection, null, ("@l", limit)))
            await using (var reader = await find.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) orphans.Add(new ContentKey((byte[])reader.GetValue(0), reader.GetInt64(1)));

            int contents = 0;
            foreach (var key in orphans)
            {
                // Read committed: the check of files below, made after the blob's lock is held, sees a file_upload_init or an
                // upload completing that committed while this waited for the lock (a snapshot from before would not).
                await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
                await using (var locked = Command("SELECT 1 FROM file_blobs WHERE sha256 = @s AND size = @z FOR UPDATE", connection, transaction,
                                 ("@s", key.Sha256), ("@z", key.Size)))
                await using (var used = Command("SELECT 1 FROM files WHERE sha256 = @s AND size = @z LIMIT 1", connection, transaction,
                                 ("@s", key.Sha256), ("@z", key.Size)))
                {
                    if (await locked.ExecuteScalarAsync(ct) is null || await used.ExecuteScalarAsync(ct) is not null)
                    {
                        await transaction.RollbackAsync(ct);
                        continue;
                    }
                }
                await deleteBytes(key, ct);
                await using var gone = Command("DELETE FROM file_blobs WHERE sha256 = @s AND size = @z", connection, transaction,
                    ("@s", key.Sha256), ("@z", key.Size));
                await gone.ExecuteNonQueryAsync(ct);
                await transaction.CommitAsync(ct);
                contents++;
            }
            return (files, contents);
        });

    public Task<int> DeleteUnknownContentsAsync(IReadOnlyList<ContentKey> keys, Func<ContentKey, CancellationToken, Task> deleteBytes, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            if (keys.Count == 0) return 0;
            await using var connection = await db.OpenConnectionAsync(ct);
            // Most contents have their row: one query finds those (by sha256; sizes compared here), the rest are checked one by one.
            var known = new HashSet<ContentKey>();
            await using (var find = new MySqlCommand("", connection))
            {
                var names = new List<string>();
                for (int i = 0; i < keys.Count; i++)
                {
                    names.Add("@s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    find.Parameters.AddWithValue(names[^1], keys[i].Sha256);
                }
                find.CommandText = $"SELECT sha256, size FROM file_blobs WHERE sha256 IN ({string.Join(",", names)})";
                await using var reader = await find.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) known.Add(new ContentKey((byte[])reader.GetValue(0), reader.GetInt64(1)));
            }
            int deleted = 0;
            foreach (var key in keys)
            {
                if (known.Contains(key)) continue;
                // Repeatable read: FOR UPDATE on a key with no row locks the gap, so an upload completing this content now
                // (INSERT IGNORE of its row, then the rename) waits until the bytes are gone and then stores them again; one
                // that inserted the row first makes this wait and then see it.
                await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
                await using (var locked = Command("SELECT 1 FROM file_blobs WHERE sha256 = @s AND size = @z FOR UPDATE", connection, transaction,
                                 ("@s", key.Sha256), ("@z", key.Size)))
                {
                    if (await locked.ExecuteScalarAsync(ct) is not null)
                    {
                        await transaction.RollbackAsync(ct);
                        continue;
                    }
                }
                await deleteBytes(key, ct);
                await transaction.CommitAsync(ct);
                deleted++;
            }
            return deleted;
        });
}
