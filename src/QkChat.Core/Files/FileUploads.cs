using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace QkChat.Core.Files;

/// <summary>How a tus request ended; the HTTP layer maps each to its status (docs/files.md, "Uploading").</summary>
public enum UploadStatus
{
    /// <summary>HEAD: the offset and length; PATCH: the chunk is durable (204).</summary>
    Ok,

    /// <summary>The last chunk arrived and the whole file matched: the file id goes back (204 with Qkchat-File-Id).</summary>
    Completed,

    /// <summary>No token, or a token that is forged, expired or not this upload's (401).</summary>
    Unauthorized,

    /// <summary>The upload is gone: finished, expired, or deleted after a mismatch (404).</summary>
    NotFound,

    /// <summary>Upload-Offset is not the current offset (409).</summary>
    WrongOffset,

    /// <summary>The chunk passes chunk_bytes or the upload's length (413).</summary>
    TooLarge,

    /// <summary>Upload-Checksum does not match the chunk: nothing kept (460).</summary>
    ChunkChecksumMismatch,

    /// <summary>The whole file's SHA-256 is not the one declared: the upload is deleted (460).</summary>
    FileChecksumMismatch,
}

/// <summary>The answer to a HEAD or PATCH: the status, the offset now, the length, and the file id once complete.</summary>
public readonly record struct UploadAnswer(UploadStatus Status, long Offset = 0, long Length = 0, long FileId = 0);

/// <summary>
/// The tus 1.0 core upload logic (protocol.md §10) without HTTP: the public listener hands it the bearer token, the
/// offset, the chunk and its checksum. A chunk is checked whole before a byte is written, appended and fsynced by the
/// store, and only then is the offset recorded in MariaDB: the recorded offset never runs ahead of the disk, and bytes
/// of a chunk cut off by a crash are trimmed at the next request (SIGKILL-safe). Requests of one upload run one at a
/// time (a lock per upload on this node; the offset update in MariaDB is conditional, so a second node racing on the
/// same upload gets 409, never a torn file). Runs on HTTP threads, never on a reactor.
/// </summary>
public sealed partial class FileUploads(FileTransferOptions options, IFileStore store, IFileCatalog catalog, SignedTokens tokens, ILogger logger,
    TimeProvider? time = null, FileTransferStats? stats = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    // Upload id -> its gate and how many requests hold or wait for it. An entry lives only while a request of its upload
    // is in flight: the last one out removes it, so uploads that completed, expired or were abandoned leave nothing.
    private readonly Dictionary<long, Gate> _locks = [];

    /// <summary>The file transfer counters (/metrics; docs/observability.md), shared with FileService and the HTTP routes.</summary>
    public FileTransferStats Stats { get; } = stats ?? new FileTransferStats();

    /// <summary>Uploads completed and bytes appended since start.</summary>
    public long Completed => Stats.Completed;
    public long BytesAppended => Stats.BytesReceived;

    public int ChunkBytes => options.ChunkBytes;

    /// <summary>Entries in the per-upload lock map (tests: none is left once no request is in flight).</summary>
    internal int LockCount
    {
        get
        {
            lock (_locks) return _locks.Count;
        }
    }

    /// <summary>HEAD: where the upload stands.</summary>
    public async Task<UploadAnswer> HeadAsync(long uploadId, string? token, CancellationToken ct) => Counted(await HeadCoreAsync(uploadId, token, ct));

    /// <summary>
    /// PATCH: appends <paramref name="chunk"/> at <paramref name="offset"/>. <paramref name="checksum"/> is the decoded
    /// `Upload-Checksum: sha256` value, or null when none was sent. <paramref name="chunkSha256"/> is the chunk's
    /// SHA-256 when the caller computed it already (the HTTP layer hashes the body as it arrives); null: hashed here.
    /// </summary>
    public Task<UploadAnswer> PatchAsync(long uploadId, string? token, long offset, ReadOnlyMemory<byte> chunk, byte[]? checksum, CancellationToken ct) =>
        PatchAsync(uploadId, token, offset, chunk, checksum, null, ct);

    /// <inheritdoc cref="PatchAsync(long, string?, long, ReadOnlyMemory{byte}, byte[]?, CancellationToken)"/>
    public async Task<UploadAnswer> PatchAsync(long uploadId, string? token, long offset, ReadOnlyMemory<byte> chunk, byte[]? checksum, byte[]? chunkSha256,
        CancellationToken ct) =>
        Counted(await PatchCoreAsync(uploadId, token, offset, chunk, checksum, chunkSha256, ct));

    private UploadAnswer Counted(UploadAnswer answer)
    {
        UploadFailure? failure = answer.Status switch
        {
            UploadStatus.Unauthorized => UploadFailure.Unauthorized,
            UploadStatus.NotFound => UploadFailure.NotFound,
            UploadStatus.WrongOffset => UploadFailure.WrongOffset,
            UploadStatus.TooLarge => UploadFailure.TooLarge,
            UploadStatus.ChunkChecksumMismatch => UploadFailure.ChunkChecksum,
            UploadStatus.FileChecksumMismatch => UploadFailure.FileChecksum,
            _ => null,
        };
        if (failure is { } f) Stats.Failed(f);
        if (answer.Status == UploadStatus.Completed) Stats.UploadCompleted();
        return answer;
    }

    private async Task<UploadAnswer> HeadCoreAsync(long uploadId, string? token, CancellationToken ct)
    {
        if (Claims(uploadId, token) is not { } claims) return new(UploadStatus.Unauthorized);
        using var held = await LockAsync(uploadId, ct);
        return (await SettleLockedAsync(uploadId, claims.UserId, ct)).Answer;
    }

    private async Task<UploadAnswer> PatchCoreAsync(long uploadId, string? token, long offset, ReadOnlyMemory<byte> chunk, byte[]? checksum,
        byte[]? chunkSha256, CancellationToken ct)
    {
        if (Claims(uploadId, token) is not { } claims) return new(UploadStatus.Unauthorized);
        using var held = await LockAsync(uploadId, ct);
        // A crash may have left the row and the staged bytes apart; settled, the upload may even be complete already.
        var (upload, settled) = await SettleLockedAsync(uploadId, claims.UserId, ct);
        if (upload is null || settled.Status != UploadStatus.Ok) return settled;
        long size = upload.Content.Size;
        long current = settled.Offset;
        if (offset != current)
        {
            LogWrongOffset(logger, uploadId, offset, current);
            return new(UploadStatus.WrongOffset, current, size);
        }
        if (chunk.Length > options.ChunkBytes || current + chunk.Length > size) return new(UploadStatus.TooLarge, current, size);
        if (checksum is not null && !(chunkSha256 ?? SHA256.HashData(chunk.Span)).AsSpan().SequenceEqual(checksum))
        {
            LogChunkMismatch(logger, uploadId, offset, chunk.Length);
            return new(UploadStatus.ChunkChecksumMismatch, current, size);
        }
        if (chunk.Length == 0) return new(UploadStatus.Ok, current, size);

        long now = await store.AppendAsync(uploadId, current, chunk, ct);
        Stats.Received(chunk.Length);
        // After the fsync: a crash before this line leaves MariaDB behind the disk, and the tail is trimmed next time.
        if (!await catalog.AdvanceAsync(uploadId, current, now, ct)) return new(UploadStatus.WrongOffset, current, size);
        return now < size ? new(UploadStatus.Ok, now, size) : await FinishAsync(upload, ct);
    }

    /// <summary>Every byte is staged and recorded: the whole-file check, then the commit (a mismatch deletes the upload).</summary>
    private async Task<UploadAnswer> FinishAsync(UploadInfo upload, CancellationToken ct)
    {
        long size = upload.Content.Size;
        var hash = await store.HashUploadAsync(upload.UploadId, ct);
        if (!hash.AsSpan().SequenceEqual(upload.Content.Sha256))
        {
            // protocol.md §10: a whole-file mismatch deletes the upload; nothing is stored.
            LogFileMismatch(logger, upload.UploadId, upload.UserId, size);
            await catalog.DeleteUploadAsync(upload.UploadId, ct);
            await store.AbortUploadAsync(upload.UploadId, ct);
            return new(UploadStatus.FileChecksumMismatch, 0, size);
        }
        var file = await catalog.CompleteAsync(upload, _time.GetUtcNow().ToUnixTimeMilliseconds(),
            c => store.CommitAsync(upload.UploadId, upload.Content, c), ct);
        LogCompleted(logger, upload.UploadId, upload.UserId, file.FileId, size);
        return new(UploadStatus.Completed, size, size, file.FileId);
    }

    private UploadClaims? Claims(long uploadId, string? token) =>
        tokens.ReadUploadToken(token, _time.GetUtcNow().ToUnixTimeMilliseconds()) is { } c && c.UploadId == uploadId ? c : null;

    private async Task<Held> LockAsync(long uploadId, CancellationToken ct)
    {
        Gate gate;
        lock (_locks)
        {
            if (!_locks.TryGetValue(uploadId, out gate!)) _locks[uploadId] = gate = new Gate();
            gate.Users++;
        }
        try
        {
            await gate.Semaphore.WaitAsync(ct);
        }
        catch
        {
            Leave(uploadId, gate);
            throw;
        }
        return new Held(this, uploadId, gate);
    }

    /// <summary>One request of the upload is done with the gate (released it, or never got it): the last one removes it.</summary>
    private void Leave(long uploadId, Gate gate)
    {
        lock (_locks)
        {
            if (--gate.Users == 0) _locks.Remove(uploadId);
        }
    }

    private sealed class Gate
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users; // under the map's lock
    }

    private readonly struct Held(FileUploads owner, long uploadId, Gate gate) : IDisposable
    {
        public void Dispose()
        {
            gate.Semaphore.Release();
            owner.Leave(uploadId, gate);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "upload {UploadId}: PATCH at offset {Offset}, the upload is at {Current}: 409")]
    private static partial void LogWrongOffset(ILogger logger, long uploadId, long offset, long current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "upload {UploadId}: chunk of {Bytes} bytes at {Offset} does not match its Upload-Checksum: 460, nothing kept")]
    private static partial void LogChunkMismatch(ILogger logger, long uploadId, long offset, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "upload {UploadId} of user {UserId}: the whole file ({Size} bytes) does not match its sha256: 460, upload deleted")]
    private static partial void LogFileMismatch(ILogger logger, long uploadId, uint userId, long size);

    [LoggerMessage(Level = LogLevel.Information, Message = "upload {UploadId} of user {UserId} complete: file {FileId}, {Size} bytes")]
    private static partial void LogCompleted(ILogger logger, long uploadId, uint userId, long fileId, long size);
}
