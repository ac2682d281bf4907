using MySqlConnector;
using QkChat.Core.Files;
using QkChat.Server.Storage;

namespace QkChat.Server.Files;

/// <summary>
/// What MariaDB knows about files (sql/0010_files.sql): contents (file_blobs), users' files over them (files) and
/// unfinished uploads (file_uploads). A blob row exists only while its bytes are in the store: the upload that
/// commits the bytes and the sweeper that deletes them each hold the row's lock meanwhile (docs/files.md,
/// "Consistency"). Visibility and the sweeper are in MySqlFileCatalog.Sweep.cs.
/// </summary>
public sealed partial class MySqlFileCatalog(MySqlDataSource db) : IFileCatalog
{
    private const string FileColumns = "f.file_id, f.uploader_id, f.sha256, f.size, f.name, f.mime, f.created_at";
    private const string UploadColumns = "upload_id, user_id, sha256, size, name, mime, upload_offset, expires_at";

    public Task<InitOutcome> InitAsync(InitRequest r, Func<ContentKey, CancellationToken, Task<bool>> storedWhole, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // One user's inits take turns (their user row's lock): the limits below cannot be passed by sending many at once.
            await using (var user = Command("SELECT user_id FROM users WHERE user_id = @u FOR UPDATE", connection, transaction, ("@u", r.UserId)))
                await user.ExecuteScalarAsync(ct);

            // Stored content answers at once. The shared lock orders this against the sweeper deleting the blob, and keeps
            // the content in the store while it is checked and the file row written. A row whose bytes the store does not
            // hold whole (lost or truncated on disk) counts as no content: the upload below stores them again, and its
            // commit replaces the bad file under the same key, which makes the earlier files over it whole again.
            bool lost = false;
            await using (var blob = Command("SELECT 1 FROM file_blobs WHERE sha256 = @s AND size = @z LOCK IN SHARE MODE", connection, transaction,
                             ("@s", r.Content.Sha256), ("@z", r.Content.Size)))
            {
                if (await blob.ExecuteScalarAsync(ct) is not null)
                {
                    if (await storedWhole(r.Content, ct))
                    {
                        var file = await OwnFileAsync(connection, transaction, r, ct) ?? await InsertFileAsync(connection, transaction, r.UserId,
                            r.Content, r.Name, r.Mime, r.Now, uploaded: false, ct);
                        await transaction.CommitAsync(ct);
                        return new InitOutcome(InitResult.Complete, file, null);
                    }
                    lost = true;
                }
            }

            await using (var earlier = Command($"SELECT {UploadColumns} FROM file_uploads WHERE user_id = @u AND sha256 = @s AND size = @z",
                             connection, transaction, ("@u", r.UserId), ("@s", r.Content.Sha256), ("@z", r.Content.Size)))
            {
                var upload = await ReadUploadAsync(earlier, ct);
                if (upload is not null)
                {
                    await transaction.CommitAsync(ct);
                    return new InitOutcome(InitResult.Upload, null, upload, Resumed: true, ContentLost: lost);
                }
            }

            long since = r.Now - (long)TimeSpan.FromDays(1).TotalMilliseconds;
            await using (var usage = Command(
                             "SELECT (SELECT COUNT(*) FROM file_uploads WHERE user_id = @u), " +
                             "(SELECT COALESCE(SUM(size), 0) FROM file_uploads WHERE user_id = @u AND created_at > @since) + " +
                             "(SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader_id = @u AND uploaded = 1 AND created_at > @since)",
                             connection, transaction, ("@u", r.UserId), ("@since", since)))
            await using (var reader = await usage.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                long open = reader.GetInt64(0);
                decimal bytes = reader.GetDecimal(1);
                if (open >= r.MaxOpenUploads) return new InitOutcome(InitResult.TooManyUploads, null, null, ContentLost: lost);
                if (bytes + r.Content.Size > r.MaxBytesPerDay) return new InitOutcome(InitResult.DailyBytesExceeded, null, null, ContentLost: lost);
            }

            await using var insert = Command(
                "INSERT INTO file_uploads (user_id, sha256, size, name, mime, upload_offset, created_at, expires_at) VALUES (@u, @s, @z, @n, @m, 0, @now, @exp)",
                connection, transaction, ("@u", r.UserId), ("@s", r.Content.Sha256), ("@z", r.Content.Size), ("@n", r.Name), ("@m", r.Mime),
                ("@now", r.Now), ("@exp", r.UploadExpiresAt));
            await insert.ExecuteNonQueryAsync(ct);
            await transaction.CommitAsync(ct);
            return new InitOutcome(InitResult.Upload, null,
                new UploadInfo(insert.LastInsertedId, r.UserId, r.Content, r.Name, r.Mime, 0, r.UploadExpiresAt), ContentLost: lost);
        });

    /// <summary>The user's own earlier file of this content under this exact name and type (a repeated init makes no new file).</summary>
    private static async Task<StoredFile?> OwnFileAsync(MySqlConnection connection, MySqlTransaction transaction, InitRequest r, CancellationToken ct)
    {
        await using var command = Command(
            $"SELECT {FileColumns} FROM files f WHERE f.uploader_id = @u AND f.sha256 = @s AND f.size = @z AND BINARY f.name = @n AND BINARY f.mime = @m " +
            "ORDER BY f.file_id LIMIT 1", connection, transaction, ("@u", r.UserId), ("@s", r.Content.Sha256), ("@z", r.Content.Size), ("@n", r.Name),
            ("@m", r.Mime));
        return await ReadFileAsync(command, ct);
    }

    private static async Task<StoredFile> InsertFileAsync(MySqlConnection connection, MySqlTransaction transaction, uint userId, ContentKey content,
        string name, string mime, long now, bool uploaded, CancellationToken ct)
    {
        await using var insert = Command(
            "INSERT INTO files (uploader_id, sha256, size, name, mime, created_at, uploaded) VALUES (@u, @s, @z, @n, @m, @now, @up)",
            connection, transaction, ("@u", userId), ("@s", content.Sha256), ("@z", content.Size), ("@n", name), ("@m", mime), ("@now", now),
            ("@up", uploaded));
        await insert.ExecuteNonQueryAsync(ct);
        return new StoredFile(insert.LastInsertedId, userId, content, name, mime, now);
    }

    public Task<UploadInfo?> UploadAsync(long uploadId, uint userId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command($"SELECT {UploadColumns} FROM file_uploads WHERE upload_id = @id AND user_id = @u", connection, null,
                ("@id", uploadId), ("@u", userId));
            return await ReadUploadAsync(command, ct);
        });

    public Task<bool> AdvanceAsync(long uploadId, long expected, long offset, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command("UPDATE file_uploads SET upload_offset = @n WHERE upload_id = @id AND upload_offset = @e AND @n > @e",
                connection, null, ("@id", uploadId), ("@e", expected), ("@n", offset));
            return await command.ExecuteNonQueryAsync(ct) == 1;
        });

    public Task<bool> RewindAsync(long uploadId, long expected, long offset, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command("UPDATE file_uploads SET upload_offset = @n WHERE upload_id = @id AND upload_offset = @e AND @n < @e",
                connection, null, ("@id", uploadId), ("@e", expected), ("@n", offset));
            return await command.ExecuteNonQueryAsync(ct) == 1;
        });

    public Task<StoredFile> CompleteAsync(UploadInfo upload, long now, Func<CancellationToken, Task> commitBytes, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var blob = Command("INSERT IGNORE INTO file_blobs (sha256, size, stored_at) VALUES (@s, @z, @now)", connection, transaction,
                             ("@s", upload.Content.Sha256), ("@z", upload.Content.Size), ("@now", now)))
                await blob.ExecuteNonQueryAsync(ct);
            await using (var locked = Command("SELECT 1 FROM file_blobs WHERE sha256 = @s AND size = @z FOR UPDATE", connection, transaction,
                             ("@s", upload.Content.Sha256), ("@z", upload.Content.Size)))
                await locked.ExecuteScalarAsync(ct);
            // Under the blob's lock: the sweeper cannot delete these bytes between the store's "already there" and our row.
            await commitBytes(ct);
            var file = await InsertFileAsync(connection, transaction, upload.UserId, upload.Content, upload.Name, upload.Mime, now, uploaded: true, ct);
            await using (var done = Command("DELETE FROM file_uploads WHERE upload_id = @id", connection, transaction, ("@id", upload.UploadId)))
                await done.ExecuteNonQueryAsync(ct);
            await transaction.CommitAsync(ct);
            return file;
        });

    public Task DeleteUploadAsync(long uploadId, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = Command("DELETE FROM file_uploads WHERE upload_id = @id", connection, null, ("@id", uploadId));
            await command.ExecuteNonQueryAsync(ct);
        });

    private static MySqlCommand Command(string sql, MySqlConnection connection, MySqlTransaction? transaction, params ReadOnlySpan<(string Name, object Value)> parameters)
    {
        var command = new MySqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    private static async Task<UploadInfo?> ReadUploadAsync(MySqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new UploadInfo(reader.GetInt64(0), reader.GetUInt32(1), new ContentKey((byte[])reader.GetValue(2), reader.GetInt64(3)), reader.GetString(4),
            reader.GetString(5), reader.GetInt64(6), reader.GetInt64(7));
    }

    private static async Task<StoredFile?> ReadFileAsync(MySqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new StoredFile(reader.GetInt64(0), reader.GetUInt32(1), new ContentKey((byte[])reader.GetValue(2), reader.GetInt64(3)),
            reader.GetString(4), reader.GetString(5), reader.GetInt64(6));
    }
}
