namespace QkChat.Core.Files;

/// <summary>Why an upload request was refused or an upload was lost; the `reason` label of qkchat_files_upload_failures_total.</summary>
public enum UploadFailure
{
    /// <summary>A chunk did not match its Upload-Checksum (460); the upload goes on.</summary>
    ChunkChecksum,

    /// <summary>The whole file did not match its sha256 (460): the upload was deleted.</summary>
    FileChecksum,

    /// <summary>Upload-Offset was not the current offset (409).</summary>
    WrongOffset,

    /// <summary>A chunk over chunk_bytes or past the upload's length (413).</summary>
    TooLarge,

    /// <summary>No, a forged or an expired token (401).</summary>
    Unauthorized,

    /// <summary>The upload is gone (404).</summary>
    NotFound,

    /// <summary>The PATCH body was cut off midway (the connection dropped): nothing kept.</summary>
    CutOff,

    /// <summary>Unfinished 24 h after it began: the sweeper deleted it.</summary>
    Expired,
}

/// <summary>
/// File transfer counters for /metrics (docs/observability.md): plain Interlocked counters bumped by the upload and
/// download paths (HTTP and thread-pool threads, never a reactor), read when scraped.
/// </summary>
public sealed class FileTransferStats
{
    private long _started, _deduplicated, _completed, _bytesReceived, _downloads, _bytesServed;
    private readonly long[] _failures = new long[Enum.GetValues<UploadFailure>().Length];

    /// <summary>New uploads file_upload_init began (a resumed one is not new).</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>file_upload_init answers "complete" at once: the content was stored already, no bytes crossed.</summary>
    public long Deduplicated => Interlocked.Read(ref _deduplicated);

    /// <summary>Uploads whose last chunk arrived and matched: a file was made.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Bytes of chunks made durable in the store (checked chunks only; a refused one counts nothing).</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>GETs of a signed URL answered with bytes (200 or 206).</summary>
    public long Downloads => Interlocked.Read(ref _downloads);

    /// <summary>Bytes of files read from the store and sent in those answers.</summary>
    public long BytesServed => Interlocked.Read(ref _bytesServed);

    public long Failures(UploadFailure reason) => Interlocked.Read(ref _failures[(int)reason]);

    public void UploadStarted() => Interlocked.Increment(ref _started);
    public void UploadDeduplicated() => Interlocked.Increment(ref _deduplicated);
    public void UploadCompleted() => Interlocked.Increment(ref _completed);
    public void Received(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);
    public void Failed(UploadFailure reason) => Interlocked.Increment(ref _failures[(int)reason]);
    public void Downloaded() => Interlocked.Increment(ref _downloads);
    public void Served(long bytes) => Interlocked.Add(ref _bytesServed, bytes);
}
