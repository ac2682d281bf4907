using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace QkChat.Core.Files;

/// <summary>
/// Settling an upload after a crash (docs/files.md, "Consistency and crashes"): before a HEAD, a PATCH or a resumed
/// file_upload_init uses an upload, its MariaDB row and its staged bytes are brought into agreement, so that the
/// offset answered is one the store holds and an upload whose bytes were all durable completes instead of sticking.
/// </summary>
public sealed partial class FileUploads
{
    /// <summary>
    /// Settles re-read the row when the conditional rewind finds it moved (only another node's request moves it while
    /// this node holds the upload's lock): three reads are plenty for a race that needs two nodes on one upload.
    /// </summary>
    private const int SettleAttempts = 3;

    /// <summary>
    /// The upload of <paramref name="userId"/>, settled (<see cref="SettleLockedAsync"/>), for file_upload_init resuming
    /// it: Ok with the offset to resume from, Completed with the file id, or NotFound / FileChecksumMismatch when the
    /// upload is gone (a new init starts over).
    /// </summary>
    public async Task<UploadAnswer> SettleAsync(long uploadId, uint userId, CancellationToken ct)
    {
        using var held = await LockAsync(uploadId, ct);
        return Counted((await SettleLockedAsync(uploadId, userId, ct)).Answer);
    }

    /// <summary>
    /// Under the upload's lock: the row, and Ok with the offset the store holds, or the upload's final answer. The
    /// crash points, in the order of the upload path: (1) a chunk appended and fsynced, its offset never recorded: the
    /// store trims the staged bytes back to the row; (2) every byte recorded, the whole-file check or the commit never
    /// ran: it runs now; (3) the commit's rename done, its transaction not: the content already in place is hashed and,
    /// if it is the declared file, committed; (4) the row ahead of what is staged (the renamed content lost or damaged,
    /// or staged bytes lost): the row is rewound to the staged length.
    /// </summary>
    private async Task<(UploadInfo? Upload, UploadAnswer Answer)> SettleLockedAsync(long uploadId, uint userId, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            if (await catalog.UploadAsync(uploadId, userId, ct) is not { } upload) return (null, new(UploadStatus.NotFound));
            long size = upload.Content.Size;
            long staged = await store.OpenUploadAsync(uploadId, upload.Offset, ct);
            if (staged == upload.Offset) return (upload, staged < size ? new(UploadStatus.Ok, staged, size) : await FinishAsync(upload, ct));
            if (upload.Offset == size && await CompleteFromContentAsync(upload, ct) is { } completed) return (upload, completed);
            if (await catalog.RewindAsync(uploadId, upload.Offset, staged, ct))
            {
                LogRewound(logger, uploadId, upload.Offset, staged);
                return (upload, new(UploadStatus.Ok, staged, size));
            }
            if (attempt == SettleAttempts) throw new InvalidOperationException($"upload {uploadId}: its offset kept moving while being rewound");
        }
    }

    /// <summary>
    /// Crash point (3): the row says the whole size, the staged bytes are gone, and the content may be in place under
    /// its key. Committed only when its bytes hash to the declared sha256; bytes under the content's name that are not
    /// its bytes are deleted if no blob row claims them (else a resumed upload would find them "already stored").
    /// </summary>
    private async Task<UploadAnswer?> CompleteFromContentAsync(UploadInfo upload, CancellationToken ct)
    {
        var key = upload.Content;
        byte[] hash;
        await using (var stream = await store.OpenReadAsync(key, 0, ct))
        {
            if (stream is null) return null;
            hash = await SHA256.HashDataAsync(stream, ct);
        }
        if (!hash.AsSpan().SequenceEqual(key.Sha256))
        {
            int deleted = await catalog.DeleteUnknownContentsAsync([key], store.DeleteAsync, ct);
            LogDamagedContent(logger, upload.UploadId, key.Hex, key.Size, deleted > 0);
            return null;
        }
        try
        {
            var file = await catalog.CompleteAsync(upload, _time.GetUtcNow().ToUnixTimeMilliseconds(), async c =>
            {
                // Under the blob row's lock: the sweeper may have deleted a content without a row since the hash above.
                if (!await store.IsStoredWholeAsync(key, c)) throw new ContentGoneException();
                await store.AbortUploadAsync(upload.UploadId, c);
            }, ct);
            LogCompletedFromContent(logger, upload.UploadId, upload.UserId, file.FileId, key.Size);
            return new(UploadStatus.Completed, key.Size, key.Size, file.FileId);
        }
        catch (ContentGoneException)
        {
            return null;
        }
    }

    /// <summary>The content went between its hash and the commit's lock (the transaction rolled back): rewind instead.</summary>
    private sealed class ContentGoneException : Exception;

    [LoggerMessage(Level = LogLevel.Warning, Message = "upload {UploadId}: its row said {Recorded} bytes, the store holds {Staged}: rewound (a crash left them apart)")]
    private static partial void LogRewound(ILogger logger, long uploadId, long recorded, long staged);

    [LoggerMessage(Level = LogLevel.Error, Message = "upload {UploadId}: the content {Sha256}-{Size} in the store does not match its sha256 (deleted: {Deleted}); the upload is rewound")]
    private static partial void LogDamagedContent(ILogger logger, long uploadId, string sha256, long size, bool deleted);

    [LoggerMessage(Level = LogLevel.Information, Message = "upload {UploadId} of user {UserId} complete after a crash (its bytes were in the store, sha256 checked): file {FileId}, {Size} bytes")]
    private static partial void LogCompletedFromContent(ILogger logger, long uploadId, uint userId, long fileId, long size);
}
