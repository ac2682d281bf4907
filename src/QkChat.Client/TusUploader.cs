using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace QkChat.Client;

/// <summary>Where an upload goes, from file_upload_init's answer (protocol.md §10).</summary>
public sealed record UploadTarget(string Url, string Token, long Size, long Offset, int ChunkBytes);

/// <summary>One PATCH that the server took: its bytes and how long it took (the load generator's per-chunk latency).</summary>
public readonly record struct ChunkTiming(long Offset, int Bytes, TimeSpan Elapsed);

/// <summary>The upload cannot go on: the server refused it for good (the status says why).</summary>
public sealed class UploadFailedException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>404: the upload is gone: finished (its final answer was lost), expired, or deleted after a mismatch.
    /// file_upload_init again tells which (it answers complete with the file id when the bytes are stored).</summary>
    public bool Gone => Status == HttpStatusCode.NotFound;
}

/// <summary>
/// A tus 1.0 client (core and the sha256 checksum extension; docs/files.md, "Uploading") for qkchat and
/// qkchat-loadgen: the file goes in chunks of the server's chunk_bytes, each with its `Upload-Checksum`. A cut
/// (connection lost, a timeout, a 5xx) is resumed from the offset HEAD reports, up to <see cref="MaxResumes"/> times;
/// a 409 resumes from the offset it carries. The source must be seekable: a resume rereads from the server's offset.
/// </summary>
public sealed class TusUploader(HttpClient http)
{
    private const string TusVersion = "1.0.0";

    /// <summary>Cuts in a row resumed before giving up. 5: rides out a server restart or a flaky link, and a
    /// server that keeps failing is reported within seconds rather than retried for good.</summary>
    public int MaxResumes { get; init; } = 5;

    /// <summary>The wait before resuming after the n-th cut in a row (n from 1): 0.5 s, 1 s, 2 s, ... so a restarting
    /// server has time to come back.</summary>
    public Func<int, TimeSpan> Backoff { get; init; } = n => TimeSpan.FromMilliseconds(500 * (1 << Math.Min(n - 1, 6)));

    /// <summary>Called after every chunk the server took (progress, timing).</summary>
    public Action<ChunkTiming>? ChunkSent { get; init; }

    /// <summary>Called when a cut is resumed: the offset the server holds and the error.</summary>
    public Action<long, Exception>? Resumed { get; init; }

    /// <summary>Sends <paramref name="source"/> from the target's offset to its end; returns the file id of the last chunk's answer.</summary>
    /// <exception cref="UploadFailedException">A refusal that retrying cannot fix, or more cuts than <see cref="MaxResumes"/>.</exception>
    public async Task<long> UploadAsync(Stream source, UploadTarget target, CancellationToken ct = default)
    {
        long offset = target.Offset;
        int cuts = 0;
        byte[] buffer = new byte[Math.Min(target.ChunkBytes, Math.Max(target.Size, 1))];
        while (true)
        {
            int length = (int)Math.Min(buffer.Length, target.Size - offset);
            source.Seek(offset, SeekOrigin.Begin);
            await source.ReadExactlyAsync(buffer.AsMemory(0, length), ct).ConfigureAwait(false);
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            (HttpStatusCode Status, long Offset, long FileId) answer;
            try
            {
                answer = await PatchAsync(target, offset, buffer.AsMemory(0, length), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsCut(e, ct))
            {
                offset = await ResumeAsync(target, ++cuts, e, ct).ConfigureAwait(false);
                continue;
            }
            switch (answer.Status)
            {
                case HttpStatusCode.NoContent:
                    cuts = 0;
                    ChunkSent?.Invoke(new ChunkTiming(offset, length, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
                    offset = answer.Offset;
                    if (answer.FileId > 0) return answer.FileId;
                    if (offset >= target.Size) throw new UploadFailedException(answer.Status, "the last chunk was taken but no file id came back");
                    continue;
                case HttpStatusCode.Conflict:
                    // Another offset than ours: the server's is the truth (a chunk whose answer was lost was kept).
                    if (++cuts > MaxResumes) throw new UploadFailedException(answer.Status, $"409 {cuts} times in a row");
                    offset = answer.Offset;
                    continue;
                case (HttpStatusCode)460 when offset + length < target.Size:
                    // The chunk was damaged on the way (nothing was kept): send it again.
                    offset = await ResumeAsync(target, ++cuts, new IOException("chunk checksum mismatch (460)"), ct).ConfigureAwait(false);
                    continue;
                case (HttpStatusCode)460:
                    throw new UploadFailedException(answer.Status, "the file's sha256 does not match the one declared: the server deleted the upload");
                case >= HttpStatusCode.InternalServerError:
                    offset = await ResumeAsync(target, ++cuts, new IOException($"HTTP {(int)answer.Status}"), ct).ConfigureAwait(false);
                    continue;
                default:
                    throw new UploadFailedException(answer.Status, $"the server refused the chunk at {offset}: HTTP {(int)answer.Status}");
            }
        }
    }

    /// <summary>Waits, then asks the server where the upload stands (HEAD), retrying HEAD itself within the same budget.</summary>
    private async Task<long> ResumeAsync(UploadTarget target, int cuts, Exception cause, CancellationToken ct)
    {
        while (true)
        {
            if (cuts > MaxResumes) throw new UploadFailedException(0, $"gave up after {MaxResumes} resumes: {cause.Message}");
            await Task.Delay(Backoff(cuts), ct).ConfigureAwait(false);
            try
            {
                long offset = await HeadAsync(target, ct).ConfigureAwait(false);
                Resumed?.Invoke(offset, cause);
                return offset;
            }
            catch (Exception e) when (IsCut(e, ct))
            {
                cause = e;
                cuts++;
            }
        }
    }

    /// <summary>HEAD: the durable offset. 404 and other refusals throw <see cref="UploadFailedException"/>; a 5xx counts as a cut.</summary>
    public async Task<long> HeadAsync(UploadTarget target, CancellationToken ct = default)
    {
        using var request = Request(HttpMethod.Head, target);
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        if ((int)response.StatusCode >= 500) throw new HttpRequestException($"HEAD: HTTP {(int)response.StatusCode}");
        if (response.StatusCode != HttpStatusCode.OK)
            throw new UploadFailedException(response.StatusCode, $"HEAD of the upload: HTTP {(int)response.StatusCode}");
        return Offset(response);
    }

    private async Task<(HttpStatusCode, long, long)> PatchAsync(UploadTarget target, long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Patch, target);
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData(chunk.Span)));
        request.Content = new ReadOnlyMemoryContent(chunk);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        long fileId = response.Headers.TryGetValues("Qkchat-File-Id", out var ids) && long.TryParse(ids.First(), CultureInfo.InvariantCulture, out long id) ? id : 0;
        return (response.StatusCode, Offset(response), fileId);
    }

    private static HttpRequestMessage Request(HttpMethod method, UploadTarget target)
    {
        var request = new HttpRequestMessage(method, target.Url);
        request.Headers.Add("Tus-Resumable", TusVersion);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Token);
        return request;
    }

    private static long Offset(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Upload-Offset", out var values) && long.TryParse(values.First(), CultureInfo.InvariantCulture, out long v) ? v : -1;

    /// <summary>A lost connection or an HTTP timeout (not our own cancellation): resumable.</summary>
    internal static bool IsCut(Exception e, CancellationToken ct) =>
        e is HttpRequestException or IOException || (e is TaskCanceledException && !ct.IsCancellationRequested);
}
