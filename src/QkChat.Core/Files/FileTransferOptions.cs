namespace QkChat.Core.Files;

/// <summary>
/// File transfer settings (protocol.md §10, docs/files.md). The defaults written here are the server's: qkchatd's
/// option registry binds files.* to these properties.
/// </summary>
public sealed class FileTransferOptions
{
    /// <summary>Directory of the local content-addressed store (make run: .run/files; the package: /var/lib/qkchat/files).</summary>
    public string Dir { get; set; } = ".run/files";

    /// <summary>protocol.md §10: files of 1..100 MiB unless configured otherwise.</summary>
    public long MaxBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>
    /// Most bytes one PATCH may carry. 8 MiB: the S3 multipart part size a later adapter maps chunks onto (S3 wants
    /// parts of 5 MiB or more, except the last), and small enough that a chunk is buffered and checked in memory.
    /// </summary>
    public int ChunkBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Unfinished uploads one user may hold at once. 20: a client sending a handful of files in parallel never meets
    /// it, while one account cannot fill the staging area with thousands of half uploads (each may hold up to max_bytes).
    /// </summary>
    public int MaxOpenUploadsPerUser { get; set; } = 20;

    /// <summary>
    /// Bytes one user may start uploading per rolling 24 h (new uploads and new files, not dedup hits of one's own).
    /// 2 GiB: twenty maximum-size files a day, far beyond chat use, while bounding one account's share of the disk.
    /// </summary>
    public long MaxBytesPerUserPerDay { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Base URL of the public HTTP listener as clients reach it; upload and download URLs start with it.</summary>
    public string PublicUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary>HMAC key of upload tokens and download URLs; empty: a random key per start (one node only).</summary>
    public string Secret { get; set; } = "";

    /// <summary>protocol.md §10: a download URL works for 10 minutes.</summary>
    public static readonly TimeSpan UrlLifetime = TimeSpan.FromMinutes(10);

    /// <summary>protocol.md §10: unfinished uploads expire after 24 h (also an upload token's lifetime).</summary>
    public static readonly TimeSpan UploadLifetime = TimeSpan.FromHours(24);

    /// <summary>protocol.md §10: a stored file no message references is deleted 24 h after its upload.</summary>
    public static readonly TimeSpan UnreferencedLifetime = TimeSpan.FromHours(24);

    /// <summary>protocol.md §10: names are 1-255 characters; counted here in UTF-8 bytes, as the brief and file systems do.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Longest mime type kept (RFC 6838 allows 127 characters for each of type and subtype; 127 in all is ample).</summary>
    public const int MaxMimeChars = 127;

    /// <summary>Where uploads are sent: tus resources live under this path of the public listener.</summary>
    public const string UploadPath = "/files/uploads/";

    /// <summary>Where signed downloads are served.</summary>
    public const string DownloadPath = "/files/d/";

    public FileTransferOptions Copy() => (FileTransferOptions)MemberwiseClone();
}
