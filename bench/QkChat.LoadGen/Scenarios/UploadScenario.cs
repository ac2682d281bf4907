using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// upload (issue 21; docs/loadgen.md "upload"): every connection logs in as a provisioned account, makes a file of
/// --file-bytes random bytes (fresh per run, so the server's dedup never answers at once), asks file_upload_init and
/// sends it over the public HTTP listener in the server's chunks (tus PATCH with sha256 checksums, resumed from HEAD
/// after a cut: QkChat.Client's TusUploader, as qkchat uses it); with --verify-download it fetches the file back
/// (get_file_url, GET) and compares the sha256. Each client does this once: the run is bounded by the number of
/// files and, at the latest, by the deadline (ramp + duration + grace); unfinished transfers then count as failed.
/// </summary>
public sealed class UploadScenario : IScenario
{
    public const string Name = "upload";

    private readonly List<Task> _clients = [];
    private ConnectionSet? _connections;
    private readonly UploadResult _result = new();
    private readonly Lock _lock = new();
    private long _firstChunkAt = long.MaxValue, _lastChunkAt, _firstGetAt = long.MaxValue, _lastGetAt;

    public bool AllAttempted => _connections?.AllAttempted.IsCompleted ?? false;

    public UploadResult? Upload => Result();

    public async Task RunAsync(ScenarioContext context)
    {
        _result.Clients = context.Share.Connections;
        _result.FileBytes = context.Options.FileBytes;
        _result.Verify = context.Options.VerifyDownload;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue })
        {
            // One chunk over a loaded loopback: --request-timeout bounds it like any request; a stalled one is a cut.
            Timeout = context.RequestTimeout,
        };
        await using var connections = _connections = new ConnectionSet(context);
        await connections.StartOpeningAsync((client, index) =>
        {
            lock (_clients) _clients.Add(ClientAsync(client, context.Share.First + index, context, http));
        }).ConfigureAwait(false);
        await connections.AllAttempted.ConfigureAwait(false);
        Task[] clients;
        lock (_clients) clients = [.. _clients];
        // Done when every file is through (a bounded job), or at the deadline at the latest.
        await Waits.ForAsync(Task.WhenAll(clients), context.Clock.DeadlineTimestamp, context.HardStop).ConfigureAwait(false);
        lock (_lock)
        {
            _result.UploadSeconds = _lastChunkAt > _firstChunkAt ? (_lastChunkAt - _firstChunkAt) / (double)Stopwatch.Frequency : 0;
            _result.DownloadSeconds = _lastGetAt > _firstGetAt ? (_lastGetAt - _firstGetAt) / (double)Stopwatch.Frequency : 0;
        }
    }

    private async Task ClientAsync(ChatClient client, int account, ScenarioContext context, HttpClient http)
    {
        try
        {
            if (!await LoginAsync(client, account, context).ConfigureAwait(false)) return;
            byte[] bytes = new byte[context.Options.FileBytes];
            RandomNumberGenerator.Fill(bytes);
            string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            string name = string.Create(CultureInfo.InvariantCulture, $"lg-{context.Clock.StartUnixMs}-{account}.bin");
            Envelope init = await client.FileUploadInitAsync(name, bytes.Length, sha, "application/octet-stream", context.HardStop).ConfigureAwait(false);
            if (init.Success != true || init.Data is not { } d)
            {
                context.Stats.Error(init.Code ?? "NO_CODE");
                return;
            }
            long fileId = d.TryGetProperty("file_id", out JsonElement fid) ? fid.GetInt64() : 0;
            if (!d.GetProperty("complete").GetBoolean())
            {
                var target = new UploadTarget(d.GetProperty("upload_url").GetString()!, d.GetProperty("upload_token").GetString()!, bytes.Length,
                    d.GetProperty("offset").GetInt64(), d.GetProperty("chunk_bytes").GetInt32());
                Interlocked.Exchange(ref _chunkBytes, target.ChunkBytes);
                var uploader = new TusUploader(http)
                {
                    ChunkSent = chunk => Chunk(chunk, context),
                    Resumed = (_, _) => Interlocked.Increment(ref _resumes),
                };
                Mark(ref _firstChunkAt, ref _lastChunkAt, Stopwatch.GetTimestamp(), start: true);
                using var source = new MemoryStream(bytes, writable: false);
                fileId = await uploader.UploadAsync(source, target, context.HardStop).ConfigureAwait(false);
            }
            Interlocked.Increment(ref _completedCount);
            if (context.Options.VerifyDownload) await VerifyAsync(client, fileId, sha, context, http).ConfigureAwait(false);
        }
        catch (UploadFailedException e)
        {
            context.Stats.Error("CLIENT_UPLOAD_" + (e.Status == 0 ? "GAVE_UP" : ((int)e.Status).ToString(CultureInfo.InvariantCulture)));
        }
        catch (DownloadFailedException e)
        {
            context.Stats.Error("CLIENT_DOWNLOAD_" + (e.Status == 0 ? "GAVE_UP" : ((int)e.Status).ToString(CultureInfo.InvariantCulture)));
        }
        catch (OperationCanceledException)
        {
            context.Stats.Error(HeartbeatScenario.Unanswered);
        }
        catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException or HttpRequestException or IOException)
        {
            context.Stats.Error("CLIENT_" + e.GetType().Name);
        }
    }

    private long _chunkBytes, _resumes, _completedCount, _bytesUp, _bytesDown, _verified, _mismatched, _logins;

    private void Chunk(ChunkTiming chunk, ScenarioContext context)
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _bytesUp, chunk.Bytes);
        Mark(ref _firstChunkAt, ref _lastChunkAt, now, start: false);
        // Every chunk is timed, ramp included: the run is a bounded job, its window is not a steady state.
        context.Stats.RoundTrip((long)chunk.Elapsed.TotalMicroseconds, inWindow: true);
    }

    private void Mark(ref long first, ref long last, long now, bool start)
    {
        lock (_lock)
        {
            if (start) first = Math.Min(first, now);
            else last = Math.Max(last, now);
        }
    }

    private async Task VerifyAsync(ChatClient client, long fileId, string sha, ScenarioContext context, HttpClient http)
    {
        Envelope link = await client.GetFileUrlAsync(fileId, context.HardStop).ConfigureAwait(false);
        if (link.Success != true || link.Data is not { } d)
        {
            context.Stats.Error(link.Code ?? "NO_CODE");
            return;
        }
        // Sized for the whole file up front: a MemoryStream grown by doubling would allocate and zero 255 MiB and copy
        // 127 MiB more for a 100 MiB file inside the timed window, client work that curl (the reference, writing to
        // /dev/null) does not do (docs/files.md, "Throughput").
        using var into = new MemoryStream(checked((int)context.Options.FileBytes));
        Mark(ref _firstGetAt, ref _lastGetAt, Stopwatch.GetTimestamp(), start: true);
        var result = await new FileDownloader(http).DownloadAsync(d.GetProperty("url").GetString()!, into, ct: context.HardStop).ConfigureAwait(false);
        Mark(ref _firstGetAt, ref _lastGetAt, Stopwatch.GetTimestamp(), start: false);
        Interlocked.Add(ref _bytesDown, result.Length);
        if (Convert.ToHexStringLower(SHA256.HashData(into.GetBuffer().AsSpan(0, (int)into.Length))) == sha) Interlocked.Increment(ref _verified);
        else Interlocked.Increment(ref _mismatched);
    }

    private async Task<bool> LoginAsync(ChatClient client, int account, ScenarioContext context)
    {
        string username = context.Options.Prefix + account.ToString("D6", CultureInfo.InvariantCulture);
        Envelope r = await client.RequestAsync(Actions.Login, w =>
        {
            w.WriteString("username", username);
            w.WriteString("password", context.Options.Password);
            w.WriteString("client_id", "lgu-" + account.ToString(CultureInfo.InvariantCulture));
        }, context.RequestTimeout, context.HardStop).ConfigureAwait(false);
        if (r.Success == true)
        {
            Interlocked.Increment(ref _logins);
            return true;
        }
        context.Stats.Error(r.Code ?? "NO_CODE");
        return false;
    }

    /// <summary>The counters, copied into the result once the run is over.</summary>
    private UploadResult Result()
    {
        _result.ChunkBytes = Interlocked.Read(ref _chunkBytes);
        _result.Resumes = Interlocked.Read(ref _resumes);
        _result.Completed = Interlocked.Read(ref _completedCount);
        _result.Failed = _result.Clients - _result.Completed;
        _result.BytesUploaded = Interlocked.Read(ref _bytesUp);
        _result.BytesDownloaded = Interlocked.Read(ref _bytesDown);
        _result.Verified = Interlocked.Read(ref _verified);
        _result.Mismatched = Interlocked.Read(ref _mismatched);
        _result.LoginsOk = Interlocked.Read(ref _logins);
        return _result;
    }
}
