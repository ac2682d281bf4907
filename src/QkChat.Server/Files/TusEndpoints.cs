using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using QkChat.Core.Files;
using QkChat.Server.Web;

namespace QkChat.Server.Files;

/// <summary>
/// Uploads (tus 1.0 core with the checksum extension, sha256 only) and signed downloads on the public HTTP listener
/// (protocol.md §10; docs/files.md has the status table). The logic is <see cref="FileUploads"/> and
/// <see cref="FileDownloads"/>; this maps HTTP onto them. Runs on Kestrel's threads, never on a reactor.
/// </summary>
public sealed partial class TusEndpoints(FileUploads uploads, FileDownloads downloads, ILogger logger) : IHttpEndpoints
{
    private const string TusVersion = "1.0.0";
    private const string OffsetContentType = "application/offset+octet-stream";

    /// <summary>tus's status for a checksum mismatch (tus checksum extension: 460 Checksum Mismatch).</summary>
    public const int ChecksumMismatch = 460;

    /// <summary>The header a completing PATCH carries (protocol.md §10).</summary>
    public const string FileIdHeader = "Qkchat-File-Id";

    public void Map(IEndpointRouteBuilder routes)
    {
        string uploads = FileTransferOptions.UploadPath + "{id:long}";
        routes.MapMethods(uploads, [HttpMethods.Options], (RequestDelegate)Options);
        routes.MapMethods(uploads, [HttpMethods.Head], (RequestDelegate)HeadAsync);
        routes.MapMethods(uploads, [HttpMethods.Patch], (RequestDelegate)PatchAsync);
        routes.MapMethods(FileTransferOptions.DownloadPath + "{id:long}", [HttpMethods.Get, HttpMethods.Head], (RequestDelegate)DownloadAsync);
    }

    private Task Options(HttpContext context)
    {
        var h = context.Response.Headers;
        h["Tus-Resumable"] = TusVersion;
        h["Tus-Version"] = TusVersion;
        h["Tus-Extension"] = "checksum";
        h["Tus-Checksum-Algorithm"] = "sha256";
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>tus: every request but OPTIONS names the protocol version; another gets 412 with the one spoken.</summary>
    private static bool VersionOk(HttpContext context)
    {
        context.Response.Headers["Tus-Resumable"] = TusVersion;
        context.Response.Headers.CacheControl = "no-store";
        if (context.Request.Headers["Tus-Resumable"] == TusVersion) return true;
        context.Response.Headers["Tus-Version"] = TusVersion;
        context.Response.StatusCode = StatusCodes.Status412PreconditionFailed;
        return false;
    }

    private static long UploadId(HttpContext context) => long.Parse((string)context.Request.RouteValues["id"]!, CultureInfo.InvariantCulture);

    private static string? Bearer(HttpContext context)
    {
        string? value = context.Request.Headers.Authorization;
        return value is not null && value.StartsWith("Bearer ", StringComparison.Ordinal) ? value["Bearer ".Length..].Trim() : null;
    }

    private async Task HeadAsync(HttpContext context)
    {
        if (!VersionOk(context)) return;
        var answer = await uploads.HeadAsync(UploadId(context), Bearer(context), context.RequestAborted);
        Answer(context, answer);
    }

    private async Task PatchAsync(HttpContext context)
    {
        if (!VersionOk(context)) return;
        var request = context.Request;
        if (!string.Equals(request.ContentType, OffsetContentType, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        if (!long.TryParse(request.Headers["Upload-Offset"], NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        byte[]? checksum = null;
        if (request.Headers["Upload-Checksum"].ToString() is { Length: > 0 } given && !TryChecksum(given, out checksum))
        {
            // tus checksum extension: an algorithm the server does not support (or an unreadable value) is 400.
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (request.ContentLength > uploads.ChunkBytes)
        {
            uploads.Stats.Failed(UploadFailure.TooLarge);
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }
        // The whole chunk is read before anything is written: a body cut off midway appends nothing, and a checksum is
        // checked over all of it. One more byte than a chunk is enough to tell "too large" without reading it all.
        // The chunk's checksum is computed piece by piece as the body arrives (each piece hashed while it is still in
        // the cache, between waits for the network) rather than in one 8 MiB burst after it (docs/files.md, "Throughput").
        byte[] buffer = ArrayPool<byte>.Shared.Rent(uploads.ChunkBytes + 1);
        using var chunkHash = checksum is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            int length = 0;
            while (length <= uploads.ChunkBytes)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(length, uploads.ChunkBytes + 1 - length), context.RequestAborted);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
                {
                    LogCutOff(logger, UploadId(context), length);
                    uploads.Stats.Failed(UploadFailure.CutOff);
                    return;
                }
                if (read == 0) break;
                chunkHash?.AppendData(buffer, length, read);
                length += read;
            }
            if (length > uploads.ChunkBytes)
            {
                uploads.Stats.Failed(UploadFailure.TooLarge);
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return;
            }
            var answer = await uploads.PatchAsync(UploadId(context), Bearer(context), offset, buffer.AsMemory(0, length), checksum,
                chunkHash?.GetHashAndReset(), CancellationToken.None);
            Answer(context, answer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>`sha256 <base64>` (tus checksum extension) into the 32-byte digest.</summary>
    private static bool TryChecksum(string header, out byte[]? digest)
    {
        digest = null;
        int space = header.IndexOf(' ');
        if (space <= 0 || !header.AsSpan(0, space).Equals("sha256", StringComparison.OrdinalIgnoreCase)) return false;
        var bytes = new byte[32];
        if (!Convert.TryFromBase64String(header[(space + 1)..].Trim(), bytes, out int written) || written != 32) return false;
        digest = bytes;
        return true;
    }

    private static void Answer(HttpContext context, UploadAnswer answer)
    {
        var response = context.Response;
        response.StatusCode = answer.Status switch
        {
            // A HEAD can complete an upload a crash left whole on disk (docs/files.md, "Consistency and crashes"): 200 with
            // Upload-Offset = Upload-Length and the file id; or find it damaged, which deletes it: 404 as for any deleted upload.
            UploadStatus.Ok or UploadStatus.Completed when HttpMethods.IsHead(context.Request.Method) => StatusCodes.Status200OK,
            UploadStatus.FileChecksumMismatch when HttpMethods.IsHead(context.Request.Method) => StatusCodes.Status404NotFound,
            UploadStatus.Ok or UploadStatus.Completed => StatusCodes.Status204NoContent,
            UploadStatus.Unauthorized => StatusCodes.Status401Unauthorized,
            UploadStatus.NotFound => StatusCodes.Status404NotFound,
            UploadStatus.WrongOffset => StatusCodes.Status409Conflict,
            UploadStatus.TooLarge => StatusCodes.Status413PayloadTooLarge,
            _ => ChecksumMismatch,
        };
        if (answer.Status is UploadStatus.Ok or UploadStatus.Completed or UploadStatus.WrongOffset or UploadStatus.ChunkChecksumMismatch)
        {
            response.Headers["Upload-Offset"] = answer.Offset.ToString(CultureInfo.InvariantCulture);
            response.Headers["Upload-Length"] = answer.Length.ToString(CultureInfo.InvariantCulture);
        }
        if (answer.Status == UploadStatus.Completed) response.Headers[FileIdHeader] = answer.FileId.ToString(CultureInfo.InvariantCulture);
        if (answer.Status == UploadStatus.Unauthorized) response.Headers.WWWAuthenticate = "Bearer";
    }

    /// <summary>
    /// GET or HEAD of a signed URL: 403 for a forged or expired signature, 404 for a valid one whose file is gone, else
    /// the bytes with Content-Length, Content-Type, ETag (the sha256), Accept-Ranges, and 206 for a Range (ASP.NET
    /// Core's range processing: one range, 416 when unsatisfiable, If-Range and If-None-Match honoured).
    /// </summary>
    private async Task DownloadAsync(HttpContext context)
    {
        var query = context.Request.Query;
        long fileId = UploadId(context);
        if (!long.TryParse(query["e"], NumberStyles.None, CultureInfo.InvariantCulture, out long expires))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var (status, file) = await downloads.AuthorizeAsync(fileId, expires, query["s"], context.RequestAborted);
        if (status != DownloadStatus.Ok || await downloads.OpenAsync(file!, 0, context.RequestAborted) is not { } stream)
        {
            context.Response.StatusCode = status == DownloadStatus.Forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status404NotFound;
            return;
        }
        await using (var counted = new CountingReadStream(stream))
        {
            context.Response.Headers.CacheControl = "private, max-age=600";
            var result = TypedResults.Stream(counted, file!.Mime, file.Name, lastModified: null,
                entityTag: new EntityTagHeaderValue("\"" + file.Content.Hex + "\""), enableRangeProcessing: true);
            // The framework decides status, headers and range; the bytes go through BatchedBodyStream into Kestrel's
            // pipe, flushed per MiB instead of per 64 KiB write (docs/files.md, "Throughput").
            var response = context.Response;
            var body = new BatchedBodyStream(response.BodyWriter);
            var original = response.Body;
            response.Body = body;
            try
            {
                await result.ExecuteAsync(context);
                if (!context.RequestAborted.IsCancellationRequested) await body.FlushAsync(context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-download: nothing to answer.
            }
            finally
            {
                response.Body = original;
            }
            // Bytes read from the store are the bytes sent (a Range reads exactly its range); a HEAD or a 304/416 reads none.
            var stats = uploads.Stats;
            if (response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent && HttpMethods.IsGet(context.Request.Method))
                stats.Downloaded();
            stats.Served(counted.BytesRead);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "upload {UploadId}: PATCH body cut off after {Bytes} bytes; nothing kept")]
    private static partial void LogCutOff(ILogger logger, long uploadId, int bytes);
}
