using Microsoft.Extensions.Logging;

namespace QkChat.Core.Files;

public enum DownloadStatus
{
    Ok,

    /// <summary>The signature is forged, does not fit the file id, or has expired (403): the URL proves nothing.</summary>
    Forbidden,

    /// <summary>A valid URL whose file is gone (deleted by the sweeper) (404).</summary>
    NotFound,
}

/// <summary>
/// Signed downloads (protocol.md §10): a URL from get_file_url carries the file id, its expiry and an HMAC over both,
/// so serving it needs no session and no lookup of who may see the file (get_file_url checked that). The HTTP layer
/// adds Content-Length, Content-Type, ETag and Range on top.
/// </summary>
public sealed partial class FileDownloads(IFileCatalog catalog, IFileStore store, SignedTokens tokens, ILogger logger, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<(DownloadStatus Status, StoredFile? File)> AuthorizeAsync(long fileId, long expiresAt, string? signature, CancellationToken ct)
    {
        if (!tokens.CheckDownload(fileId, expiresAt, signature, _time.GetUtcNow().ToUnixTimeMilliseconds())) return (DownloadStatus.Forbidden, null);
        var file = await catalog.FindAsync(fileId, ct);
        return file is null ? (DownloadStatus.NotFound, null) : (DownloadStatus.Ok, file);
    }

    /// <summary>
    /// The file's bytes from <paramref name="offset"/>; null when the store lost them or holds another length than the
    /// file's (the caller answers 404; docs/files.md, "Lost or damaged content"). The length is checked because the
    /// HTTP answer's Content-Length comes from the stream: a truncated content would pass for the whole file.
    /// </summary>
    public async Task<Stream?> OpenAsync(StoredFile file, long offset, CancellationToken ct)
    {
        var stream = await store.OpenReadAsync(file.Content, offset, ct);
        if (stream is null)
        {
            LogContentMissing(logger, file.FileId, file.Content.Hex, file.Content.Size);
            return null;
        }
        if (stream.Length != file.Content.Size)
        {
            LogContentWrongLength(logger, file.FileId, file.Content.Hex, file.Content.Size, stream.Length);
            await stream.DisposeAsync();
            return null;
        }
        return stream;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "download of file {FileId}: its content {Sha256}-{Size} is missing from the store: 404 " +
        "(the next file_upload_init of these bytes stores them again)")]
    private static partial void LogContentMissing(ILogger logger, long fileId, string sha256, long size);

    [LoggerMessage(Level = LogLevel.Error, Message = "download of file {FileId}: its content {Sha256}-{Size} in the store is {Length} bytes long: 404 " +
        "(the next file_upload_init of these bytes stores them again)")]
    private static partial void LogContentWrongLength(ILogger logger, long fileId, string sha256, long size, long length);
}
