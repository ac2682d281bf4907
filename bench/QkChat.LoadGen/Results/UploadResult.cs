namespace QkChat.LoadGen.Results;

/// <summary>
/// upload: what the uploaders measured (docs/loadgen.md "upload"). Each client uploads one file of FileBytes once;
/// throughput is the bytes the server took over the time from the first chunk sent to the last chunk answered (a
/// bounded job, not a steady state). The per-chunk PATCH latency is the run's main histogram (latency_us).
/// </summary>
public sealed class UploadResult
{
    public int Clients { get; set; }
    public long FileBytes { get; set; }

    /// <summary>The server's files.chunk_bytes, from file_upload_init's answer.</summary>
    public long ChunkBytes { get; set; }
    public long LoginsOk { get; set; }

    /// <summary>Uploads that ended with a file id, and those that did not (the reason is in the run's errors).</summary>
    public long Completed { get; set; }
    public long Failed { get; set; }

    /// <summary>Cuts resumed from HEAD's offset (connection lost, 5xx, a chunk checksum refused).</summary>
    public long Resumes { get; set; }
    public long BytesUploaded { get; set; }
    public double UploadSeconds { get; set; }
    public double UploadMegabytesPerS { get; set; }

    /// <summary>--verify-download: files downloaded back and their sha256 compared.</summary>
    public bool Verify { get; set; }
    public long Verified { get; set; }
    public long Mismatched { get; set; }
    public long BytesDownloaded { get; set; }
    public double DownloadSeconds { get; set; }
    public double DownloadMegabytesPerS { get; set; }

    public void Finish()
    {
        UploadMegabytesPerS = UploadSeconds > 0 ? Math.Round(BytesUploaded / UploadSeconds / 1e6, 1) : 0;
        DownloadMegabytesPerS = DownloadSeconds > 0 ? Math.Round(BytesDownloaded / DownloadSeconds / 1e6, 1) : 0;
        UploadSeconds = Math.Round(UploadSeconds, 3);
        DownloadSeconds = Math.Round(DownloadSeconds, 3);
    }

    /// <summary>What fails the run: an upload that did not complete, a download whose bytes were not the upload's.</summary>
    public IEnumerable<string> Problems()
    {
        if (Completed < Clients) yield return $"{Completed} of {Clients} uploads completed";
        if (Mismatched > 0) yield return $"{Mismatched} downloads did not match their upload's sha256";
        if (Verify && Verified + Mismatched < Completed) yield return $"{Verified + Mismatched} of {Completed} uploads downloaded back";
    }
}
