namespace QkChat.Core.Files;

/// <summary>A file as a message shows it (protocol.md §10: `file: {file_id, name, size, mime, sha256}`).</summary>
public sealed record StoredFile(long FileId, uint UploaderId, ContentKey Content, string Name, string Mime, long CreatedAt);

/// <summary>An unfinished upload.</summary>
public sealed record UploadInfo(long UploadId, uint UserId, ContentKey Content, string Name, string Mime, long Offset, long ExpiresAt);

/// <summary>
/// What file_upload_init found or started; <paramref name="Resumed"/>: the upload is the user's earlier one of the same
/// content; <paramref name="ContentLost"/>: a blob row said the content is stored but the store does not hold it whole,
/// so it was treated as absent (the upload stores it again).
/// </summary>
public readonly record struct InitOutcome(InitResult Result, StoredFile? File, UploadInfo? Upload, bool Resumed = false, bool ContentLost = false);

public enum InitResult
{
    /// <summary>The content is stored: <see cref="InitOutcome.File"/> is the user's file over it.</summary>
    Complete,

    /// <summary>An upload (new, or the user's earlier one of the same content) to send bytes to.</summary>
    Upload,

    /// <summary>The user holds files.max_open_uploads unfinished uploads already.</summary>
    TooManyUploads,

    /// <summary>The upload would pass files.max_bytes_per_day.</summary>
    DailyBytesExceeded,
}

/// <summary>One new file or upload: who, what content, under which name and type.</summary>
public sealed record InitRequest(uint UserId, ContentKey Content, string Name, string Mime, long Now, long UploadExpiresAt,
    int MaxOpenUploads, long MaxBytesPerDay);

/// <summary>
/// What MariaDB holds about files (sql/0010_files.sql): stored contents, users' files over them, unfinished uploads,
/// and who may see a file. Every lookup a user triggers is scoped to that user.
/// </summary>
public interface IFileCatalog
{
    /// <summary>
    /// file_upload_init: the content stored already gives the user a file over it at once (their own earlier file of the
    /// same content and name, or a new one); else the user's earlier upload of it, or a new upload within the limits.
    /// "Stored" is the blob row and <paramref name="storedWhole"/> (the store's check, run under the row's lock so the
    /// sweeper cannot delete the content in between): a row whose bytes the store lost counts as no content.
    /// </summary>
    Task<InitOutcome> InitAsync(InitRequest request, Func<ContentKey, CancellationToken, Task<bool>> storedWhole, CancellationToken ct);

    /// <summary>The upload if it exists and belongs to <paramref name="userId"/>.</summary>
    Task<UploadInfo?> UploadAsync(long uploadId, uint userId, CancellationToken ct);

    /// <summary>Records a durable offset; only forward, and only from <paramref name="expected"/> (false otherwise).</summary>
    Task<bool> AdvanceAsync(long uploadId, long expected, long offset, CancellationToken ct);

    /// <summary>
    /// Moves a recorded offset back to what the store holds (a crash left the row ahead of the staged bytes); only from
    /// <paramref name="expected"/> (false otherwise).
    /// </summary>
    Task<bool> RewindAsync(long uploadId, long expected, long offset, CancellationToken ct);

    /// <summary>
    /// Finishes an upload in one transaction: locks the content's blob row (made if new), runs
    /// <paramref name="commitBytes"/> (the store's commit) under that lock, gives the uploader a file over the content
    /// and deletes the upload; returns the file. The lock orders it against the sweeper deleting the same content.
    /// </summary>
    Task<StoredFile> CompleteAsync(UploadInfo upload, long now, Func<CancellationToken, Task> commitBytes, CancellationToken ct);

    /// <summary>Deletes an upload's row (a whole-file mismatch, expiry).</summary>
    Task DeleteUploadAsync(long uploadId, CancellationToken ct);

    /// <summary>The file if <paramref name="userId"/> uploaded it or can see a message or group entry carrying it.</summary>
    Task<StoredFile?> VisibleAsync(long fileId, uint userId, CancellationToken ct);

    /// <summary>The file by id, whoever asks (a signed download URL already proved the right to it).</summary>
    Task<StoredFile?> FindAsync(long fileId, CancellationToken ct);

    /// <summary>Whether the upload ids are still known (the rest of a store's staging areas are leftovers).</summary>
    Task<IReadOnlySet<long>> KnownUploadsAsync(IReadOnlyList<long> uploadIds, CancellationToken ct);

    /// <summary>
    /// Of <paramref name="keys"/> (contents in the store), deletes the bytes of those with no blob row, each under a lock
    /// on that row's key so that an upload completing the same content at that moment waits (its commit then stores
    /// the bytes again) or is seen; returns how many were deleted.
    /// </summary>
    Task<int> DeleteUnknownContentsAsync(IReadOnlyList<ContentKey> keys, Func<ContentKey, CancellationToken, Task> deleteBytes, CancellationToken ct);

    /// <summary>Uploads that expired before <paramref name="now"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<long>> ExpiredUploadsAsync(long now, int limit, CancellationToken ct);

    /// <summary>
    /// Deletes files created before <paramref name="createdBefore"/> that no message or group entry references (at most
    /// <paramref name="limit"/>), then, for each content no file refers to any more, locks its blob row, runs
    /// <paramref name="deleteBytes"/> and deletes the row, each in its own transaction; returns how many contents went.
    /// </summary>
    Task<(int Files, int Contents)> SweepUnreferencedAsync(long createdBefore, int limit, Func<ContentKey, CancellationToken, Task> deleteBytes,
        CancellationToken ct);
}
