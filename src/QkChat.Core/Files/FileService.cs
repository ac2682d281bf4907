using System.Globalization;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Files;

/// <summary>
/// The file actions on the chat connection (protocol.md §10): file_upload_init starts or resumes an upload (or answers
/// complete at once for stored content), get_file_url signs a download URL for those allowed. Both work off the
/// reactor; the bytes go over HTTP (<see cref="FileUploads"/>).
/// </summary>
public sealed partial class FileService
{
    /// <summary>RATE_LIMITED's retry_after_ms when a user holds too many unfinished uploads: a minute, as finishing or expiring one frees a place.</summary>
    private const long OpenUploadsRetryMs = 60_000;

    /// <summary>RATE_LIMITED's retry_after_ms past the daily byte budget: an hour, as the 24 h window slides.</summary>
    private const long DailyBytesRetryMs = 3_600_000;

    private readonly FileTransferOptions _options;
    private readonly IFileCatalog _catalog;
    private readonly IFileStore _store;
    private readonly SignedTokens _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private readonly FileTransferStats _stats;
    private readonly FileUploads? _uploads;

    /// <param name="store">Checked before stored content is answered `complete` (docs/files.md, "Lost or damaged content").</param>
    /// <param name="uploads">Settles a resumed upload that a crash left inconsistent before its offset is answered
    /// (docs/files.md, "Consistency and crashes"); null: the row's offset is answered as it is.</param>
    public FileService(FileTransferOptions options, IFileCatalog catalog, IFileStore store, SignedTokens tokens, ILogger logger,
        TimeProvider? time = null, FileTransferStats? stats = null, FileUploads? uploads = null)
    {
        _uploads = uploads;
        _stats = stats ?? new FileTransferStats();
        _options = options;
        _catalog = catalog;
        _store = store;
        _tokens = tokens;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public void Register(ActionRouter router)
    {
        router.Register(Actions.FileUploadInit, allowedBeforeLogin: false, FileUploadInit);
        router.Register(Actions.GetFileUrl, allowedBeforeLogin: false, GetFileUrl);
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private void FileUploadInit(RequestContext ctx)
    {
        var request = RequestFields.Parse(ctx, FileRequest.Json, r => FileRules.Name(r.Name), r => FileRules.Size(r.Size, _options.MaxBytes),
            r => FileRules.Sha256(r.Sha256), r => FileRules.Mime(r.Mime));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long now = Now();
        var init = new InitRequest(me, ContentKey.FromHex(request.Sha256!, request.Size!.Value), request.Name!, request.Mime ?? FileRules.DefaultMime, now,
            now + (long)FileTransferOptions.UploadLifetime.TotalMilliseconds, _options.MaxOpenUploadsPerUser, _options.MaxBytesPerUserPerDay);
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var outcome = await _catalog.InitAsync(init, _store.IsStoredWholeAsync, CancellationToken.None);
            if (outcome is { Resumed: true, Upload: { } earlier } && _uploads is not null)
            {
                // The earlier upload may be one a crash left apart from its bytes, or whole on disk but never committed.
                var settled = await _uploads.SettleAsync(earlier.UploadId, me, CancellationToken.None);
                switch (settled.Status)
                {
                    case UploadStatus.Completed:
                        LogSettledComplete(_logger, me, earlier.UploadId, settled.FileId);
                        Completed(pending, settled.FileId);
                        return;
                    case UploadStatus.Ok:
                        outcome = outcome with { Upload = earlier with { Offset = settled.Offset } };
                        break;
                    default:
                        // Deleted meanwhile (its bytes did not match, or it finished or expired): ask afresh, once.
                        outcome = await _catalog.InitAsync(init, _store.IsStoredWholeAsync, CancellationToken.None);
                        break;
                }
            }
            if (outcome.ContentLost) LogContentLost(_logger, init.Content.Hex, init.Content.Size, me);
            switch (outcome.Result)
            {
                case InitResult.Complete:
                    _stats.UploadDeduplicated();
                    LogComplete(_logger, me, outcome.File!.FileId, init.Content.Size);
                    Completed(pending, outcome.File.FileId);
                    return;
                case InitResult.TooManyUploads:
                    LogLimited(_logger, me, "open uploads");
                    pending.Complete(ErrorCodes.RateLimited, $"at most {_options.MaxOpenUploadsPerUser} unfinished uploads at once; finish one first",
                        OpenUploadsRetryMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                    return;
                case InitResult.DailyBytesExceeded:
                    LogLimited(_logger, me, "bytes per day");
                    pending.Complete(ErrorCodes.RateLimited, $"at most {_options.MaxBytesPerUserPerDay} bytes of uploads per 24 hours",
                        DailyBytesRetryMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                    return;
            }
            var upload = outcome.Upload!;
            if (!outcome.Resumed) _stats.UploadStarted();
            var answer = new InitAnswer(upload, UploadUrl(upload.UploadId),
                _tokens.UploadToken(new UploadClaims(upload.UploadId, me, upload.Content.Size, upload.ExpiresAt)), _options.ChunkBytes);
            pending.Complete(ErrorCodes.Ok, upload.Offset > 0 ? "resume the upload" : "upload the file", answer, static (w, a) =>
            {
                w.WriteNumber("upload_id"u8, a.Upload.UploadId);
                w.WriteString("upload_url"u8, a.Url);
                w.WriteString("upload_token"u8, a.Token);
                w.WriteNumber("offset"u8, a.Upload.Offset);
                w.WriteNumber("chunk_bytes"u8, a.ChunkBytes);
                w.WriteNumber("expires_at"u8, a.Upload.ExpiresAt);
                w.WriteBoolean("complete"u8, false);
            });
        });
    }

    private static void Completed(PendingResponse pending, long fileId) =>
        pending.Complete(ErrorCodes.Ok, "the file is stored already", fileId, static (w, id) =>
        {
            w.WriteNumber("file_id"u8, id);
            w.WriteBoolean("complete"u8, true);
        });

    private sealed record InitAnswer(UploadInfo Upload, string Url, string Token, int ChunkBytes);

    public string UploadUrl(long uploadId) => _options.PublicUrl.TrimEnd('/') + FileTransferOptions.UploadPath + uploadId.ToString(CultureInfo.InvariantCulture);

    /// <summary>A download URL of <paramref name="fileId"/> valid until <paramref name="expiresAt"/>.</summary>
    public string DownloadUrl(long fileId, long expiresAt) =>
        _options.PublicUrl.TrimEnd('/') + FileTransferOptions.DownloadPath + string.Create(CultureInfo.InvariantCulture, $"{fileId}?e={expiresAt}&s=")
        + _tokens.DownloadSignature(fileId, expiresAt);

    private void GetFileUrl(RequestContext ctx)
    {
        var request = RequestFields.Parse(ctx, FileRequest.Json, r => FileRules.FileId(r.FileId));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long fileId = request.FileId!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            // protocol.md §10: only the uploader or someone who sees a message carrying it; everyone else learns nothing.
            if (await _catalog.VisibleAsync(fileId, me, CancellationToken.None) is null)
            {
                pending.Complete(ErrorCodes.NotFound, "no such file");
                return;
            }
            long expires = Now() + (long)FileTransferOptions.UrlLifetime.TotalMilliseconds;
            pending.Complete(ErrorCodes.Ok, "ok", (Url: DownloadUrl(fileId, expires), Expires: expires), static (w, u) =>
            {
                w.WriteString("url"u8, u.Url);
                w.WriteNumber("expires_at"u8, u.Expires);
            });
        });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "file_upload_init of user {UserId}: content stored already, file {FileId} ({Size} bytes) without an upload")]
    private static partial void LogComplete(ILogger logger, uint userId, long fileId, long size);

    [LoggerMessage(Level = LogLevel.Information, Message = "file_upload_init of user {UserId}: upload {UploadId} was whole on disk after a crash; completed as file {FileId}")]
    private static partial void LogSettledComplete(ILogger logger, uint userId, long uploadId, long fileId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "content {Sha256}-{Size} has a file_blobs row but its file in the store is missing or of another length: " +
        "file_upload_init of user {UserId} uploads it again (files over it cannot be downloaded until an upload of it completes)")]
    private static partial void LogContentLost(ILogger logger, string sha256, long size, uint userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "file_upload_init of user {UserId} refused: the limit of {Limit} is reached")]
    private static partial void LogLimited(ILogger logger, uint userId, string limit);
}
