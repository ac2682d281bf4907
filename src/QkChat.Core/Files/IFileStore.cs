namespace QkChat.Core.Files;

/// <summary>What content is, whoever uploaded it: its SHA-256 (32 bytes) and size. The store keys bytes by it.</summary>
public readonly record struct ContentKey(byte[] Sha256, long Size)
{
    public string Hex => Convert.ToHexStringLower(Sha256);

    public static ContentKey FromHex(string hex, long size) => new(Convert.FromHexString(hex), size);

    public bool Equals(ContentKey other) => Size == other.Size && Sha256.AsSpan().SequenceEqual(other.Sha256);

    public override int GetHashCode() => HashCode.Combine(Size, BitConverter.ToInt32(Sha256, 0));
}

/// <summary>
/// The bytes of files (docs/files.md, "The store port"). An upload is staged under its upload id and appended to in
/// whole, already checked chunks at the durable end; <see cref="CommitAsync"/> turns it into content, stored once per
/// <see cref="ContentKey"/>. Every method may block on I/O: callers are never reactor threads.
/// The shape is that of S3 multipart uploads, so an S3-compatible adapter fits without changing callers: begin =
/// CreateMultipartUpload, each chunk of files.chunk_bytes (8 MiB, above S3's 5 MiB part minimum) = one UploadPart
/// numbered offset / chunk_bytes + 1, durable length = the sum of the listed parts, commit = CompleteMultipartUpload
/// (then a GET to hash it and a server-side copy to the content key), abort = AbortMultipartUpload.
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// Opens (or creates) the staging area of an upload and returns its durable length, trimmed to
    /// <paramref name="committed"/> when more is there (bytes of a chunk whose append was cut off by a crash were never
    /// acknowledged). A staging area shorter than <paramref name="committed"/> returns its real length.
    /// </summary>
    Task<long> OpenUploadAsync(long uploadId, long committed, CancellationToken ct);

    /// <summary>
    /// Appends <paramref name="chunk"/> at <paramref name="offset"/> (the durable length) and returns only once the
    /// bytes are durable (fsynced): the new length.
    /// </summary>
    Task<long> AppendAsync(long uploadId, long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct);

    /// <summary>The SHA-256 of everything staged for the upload.</summary>
    Task<byte[]> HashUploadAsync(long uploadId, CancellationToken ct);

    /// <summary>
    /// Makes the staged bytes the content <paramref name="key"/>, durably, and removes the staging area. If the
    /// content is already stored whole (another upload of the same bytes finished first) the staged copy is dropped:
    /// the same bytes are stored once. A content under that key that is not whole (<see cref="IsStoredWholeAsync"/>:
    /// damaged, truncated) is replaced by the staged bytes.
    /// </summary>
    Task CommitAsync(long uploadId, ContentKey key, CancellationToken ct);

    /// <summary>Drops an upload's staging area (a failed whole-file check, an expired upload); absent is fine.</summary>
    Task AbortUploadAsync(long uploadId, CancellationToken ct);

    /// <summary>
    /// Whether the content is stored whole: present, with the length its key names. One stat (an S3 adapter: a
    /// HeadObject); the bytes are not read, so bytes damaged in place at the right length pass.
    /// </summary>
    Task<bool> IsStoredWholeAsync(ContentKey key, CancellationToken ct);

    /// <summary>A read-only stream of the content from <paramref name="offset"/> on (a Range request); null if absent.</summary>
    Task<Stream?> OpenReadAsync(ContentKey key, long offset, CancellationToken ct);

    /// <summary>Deletes the content (the sweeper, once no file refers to it); absent is fine.</summary>
    Task DeleteAsync(ContentKey key, CancellationToken ct);

    /// <summary>The upload ids with a staging area (the sweeper drops those MariaDB no longer knows).</summary>
    IReadOnlyList<long> StagedUploads();

    /// <summary>
    /// Contents last written before <paramref name="before"/> (Unix ms): the candidates for bytes a crash left without
    /// a blob row (an S3 adapter: ListObjectsV2 under the content prefix, by LastModified).
    /// </summary>
    IReadOnlyList<ContentKey> ContentsWrittenBefore(long before);

    /// <summary>
    /// Deletes what is neither a staged upload nor a content (temporary files an interrupted writer left), if last
    /// written before <paramref name="before"/>; returns how many (an S3 adapter: incomplete multipart uploads older
    /// than that, aborted).
    /// </summary>
    int DeleteStrays(long before);
}
