using System.Globalization;
using MySqlConnector;
using QkChat.Core.Files;

namespace QkChat.Server.Files;

/// <summary>The files of messages and group entries: read with a page, marked referenced when a message stores one.</summary>
internal static class FileRows
{
    /// <summary>
    /// The statement that marks files as carried by a message (the sweeper keeps them), appended to the INSERT of the
    /// batch. The ids are server-made integers (checked visible before the send was queued), written as literals.
    /// </summary>
    public static string MarkReferencedSql(IReadOnlyCollection<long> fileIds, long now) =>
        string.Create(CultureInfo.InvariantCulture,
            $"UPDATE files SET referenced_at = {now} WHERE referenced_at IS NULL AND file_id IN ({string.Join(',', fileIds.Select(id => id.ToString(CultureInfo.InvariantCulture)))})");

    /// <summary>The files with these ids, in one query (none: no query).</summary>
    /// <summary>Fills in the `file` of the items of a page that carry one, with one query for all of them.</summary>
    public static async Task<List<T>> WithFilesAsync<T>(MySqlConnection connection, List<T> page, Func<T, long?> fileId,
        Func<T, StoredFile, T> withFile, CancellationToken ct)
    {
        var files = await LoadAsync(connection, page.Select(fileId).Where(id => id is not null).Select(id => id!.Value), ct);
        if (files.Count == 0) return page;
        for (int i = 0; i < page.Count; i++)
            if (fileId(page[i]) is { } id && files.TryGetValue(id, out var file)) page[i] = withFile(page[i], file);
        return page;
    }

    public static async Task<Dictionary<long, StoredFile>> LoadAsync(MySqlConnection connection, IEnumerable<long> fileIds, CancellationToken ct)
    {
        var ids = fileIds.Distinct().ToArray();
        var files = new Dictionary<long, StoredFile>(ids.Length);
        if (ids.Length == 0) return files;
        await using var command = new MySqlCommand(
            "SELECT file_id, uploader_id, sha256, size, name, mime, created_at FROM files WHERE file_id IN (" +
            string.Join(',', ids.Select(id => id.ToString(CultureInfo.InvariantCulture))) + ")", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            files[reader.GetInt64(0)] = new StoredFile(reader.GetInt64(0), reader.GetUInt32(1), new ContentKey((byte[])reader.GetValue(2), reader.GetInt64(3)),
                reader.GetString(4), reader.GetString(5), reader.GetInt64(6));
        return files;
    }
}
