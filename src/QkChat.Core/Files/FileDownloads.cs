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
public sealed class FileDownloads(IFileCatalog catalog, IFileStore store, SignedTokens tokens, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<(DownloadStatus Status, StoredFile? File)> AuthorizeAsync(long fileId, long expiresAt, string? signature, CancellationToken ct)
    {
        if (!tokens.CheckDownload(fileId, expiresAt, signature, _time.GetUtcNow().ToUnixTimeMilliseconds())) return (DownloadStatus.Forbidden, null);
        var file = await catalog.FindAsync(fileId, ct);
        return file is null ? (DownloadStatus.NotFound, null) : (DownloadStatus.Ok, file);
    }

    /// <summary>The file's bytes from <paramref name="offset"/>; null when the store lost them (the caller answers 404).</summary>
    public Task<Stream?> OpenAsync(StoredFile file, long offset, CancellationToken ct) => store.OpenReadAsync(file.Content, offset, ct);
}
