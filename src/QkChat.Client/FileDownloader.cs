using System.Net;
using System.Net.Http.Headers;

namespace QkChat.Client;

/// <summary>The download cannot go on: the URL is refused (403: forged or expired; 404: the file is gone) or too many cuts.</summary>
public sealed class DownloadFailedException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>What a download ended with: the file's length and its ETag (the server's is `"&lt;sha256 hex&gt;"`).</summary>
public readonly record struct DownloadResult(long Length, string? ETag);

/// <summary>
/// Downloads a signed file URL (docs/files.md, "Downloads") into a stream, resuming with `Range: bytes=N-` from what
/// the stream already holds, both after a cut in this run and across runs (a partial file kept on disk). `If-Range`
/// with the ETag makes the server send the whole file again should the content not be the one started.
/// </summary>
public sealed class FileDownloader(HttpClient http)
{
    private const int BufferBytes = 1 << 20;

    /// <summary>
    /// Cuts without progress resumed before giving up (as <see cref="TusUploader.MaxResumes"/>). Progress is the
    /// destination getting past the most it ever held (a high-water mark), not merely bytes arriving: a server that
    /// ignores Range answers 200 with the whole file each time, so bytes arrive on every attempt, and if it cuts at the
    /// same place each time, counting arrivals as progress would resume for ever.
    /// </summary>
    public int MaxResumes { get; init; } = 5;

    public Func<int, TimeSpan> Backoff { get; init; } = n => TimeSpan.FromMilliseconds(500 * (1 << Math.Min(n - 1, 6)));

    /// <summary>Called as bytes arrive: the bytes held so far and the total (0 until known).</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>
    /// Called with a response's ETag, before any of its bytes are written, whenever it is not the one held: a caller
    /// that keeps the partial bytes across runs stores it beside them, so that the next run's `If-Range` guards the
    /// resume (qkchat's /get-file keeps NAME.part.etag).
    /// </summary>
    public Func<string, CancellationToken, Task>? ETagChanged { get; init; }

    /// <summary>A fresh URL when the current one is refused with 403 (it expires after 10 minutes): get_file_url again.</summary>
    public Func<CancellationToken, Task<string>>? RenewUrl { get; init; }

    /// <summary>
    /// Writes the file into <paramref name="destination"/> (seekable, writable), continuing after its current length,
    /// with <paramref name="etag"/> (from an earlier partial run, or null) guarding the resumed range.
    /// </summary>
    public async Task<DownloadResult> DownloadAsync(string url, Stream destination, string? etag = null, CancellationToken ct = default)
    {
        int cuts = 0;
        // The most the destination ever held in this call: a cut forgives the earlier ones only when this rises.
        long mostHeld = destination.Length;
        bool renewed = false;
        byte[] buffer = new byte[BufferBytes];
        while (true)
        {
            long have = destination.Length;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
                if (etag is not null) request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue(etag));
            }
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        // The whole file (no range asked, or the content changed under If-Range): start over.
                        destination.SetLength(0);
                        have = 0;
                        break;
                    case HttpStatusCode.PartialContent:
                        break;
                    case HttpStatusCode.RequestedRangeNotSatisfiable when have > 0:
                        // Everything is here already (the range starts at the end).
                        long total = response.Content.Headers.ContentRange?.Length ?? have;
                        if (total != have) throw new DownloadFailedException(response.StatusCode, $"the file is {total} bytes, {have} are held");
                        return new DownloadResult(have, etag);
                    case HttpStatusCode.Forbidden when RenewUrl is not null && !renewed:
                        url = await RenewUrl(ct).ConfigureAwait(false);
                        renewed = true;
                        continue;
                    case >= HttpStatusCode.InternalServerError:
                        throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
                    default:
                        throw new DownloadFailedException(response.StatusCode, $"the download was refused: HTTP {(int)response.StatusCode}");
                }
                renewed = false;
                string? served = response.Headers.ETag?.Tag;
                if (response.StatusCode == HttpStatusCode.PartialContent && etag is not null && served is not null && served != etag)
                {
                    // A range of other content than the bytes held (a server that did not honour If-Range): start over,
                    // counted as a cut without progress so that a server answering so every time cannot loop.
                    destination.SetLength(0);
                    if (++cuts > MaxResumes)
                        throw new DownloadFailedException(response.StatusCode, $"gave up after {MaxResumes} restarts: the server keeps sending a range of other content");
                    continue;
                }
                if (served is not null && served != etag && ETagChanged is not null) await ETagChanged(served, ct).ConfigureAwait(false);
                etag = served ?? etag;
                long length = response.StatusCode == HttpStatusCode.PartialContent
                    ? response.Content.Headers.ContentRange?.Length ?? 0
                    : response.Content.Headers.ContentLength ?? 0;
                destination.Seek(have, SeekOrigin.Begin);
                await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                int read;
                while ((read = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    have += read;
                    Progress?.Invoke(have, length);
                }
                await destination.FlushAsync(ct).ConfigureAwait(false);
                if (length > 0 && have != length) throw new IOException($"the body ended at {have} of {length} bytes");
                return new DownloadResult(have, etag);
            }
            catch (Exception e) when (TusUploader.IsCut(e, ct))
            {
                long held = destination.Length;
                if (held > mostHeld)
                {
                    mostHeld = held;
                    cuts = 0;
                }
                if (++cuts > MaxResumes) throw new DownloadFailedException(0, $"gave up after {MaxResumes} resumes without progress: {e.Message}");
                await Task.Delay(Backoff(cuts), ct).ConfigureAwait(false);
            }
        }
    }
}
