using Microsoft.Extensions.Logging;

namespace QkChat.Core.Files;

/// <summary>
/// Deletes what protocol.md §10 says expires: unfinished uploads 24 h after they began (their staging bytes too),
/// files no message references 24 h after their upload, and contents no file refers to any more; also staging
/// areas MariaDB does not know (a crash between the two deletes). Runs every <see cref="Interval"/> on the thread
/// pool, in batches, with the clock injected so tests move time instead of waiting.
/// </summary>
public sealed partial class FileSweeper : IAsyncDisposable
{
    /// <summary>Rows handled per statement: small enough that no sweep holds locks for long; the loop repeats until none are left.</summary>
    public const int BatchSize = 500;

    /// <summary>How often a sweep runs: ten minutes, a small fraction of the 24 h lifetimes, so nothing outlives them by much.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How old bytes that no row names must be before the sweeper deletes them (content whose upload never committed,
    /// stray temporary files). An hour: a completing upload renames its content into place a moment before its
    /// transaction commits (one hash of at most files.max_bytes and one transaction: seconds), so a young orphan may be
    /// a commit in flight; an hour is far beyond that and small against the 24 h lifetimes.
    /// </summary>
    public static readonly TimeSpan OrphanAge = TimeSpan.FromHours(1);

    private readonly IFileStore _store;
    private readonly IFileCatalog _catalog;
    private readonly FileUploads? _uploads;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public FileSweeper(IFileStore store, IFileCatalog catalog, ILogger logger, TimeProvider? time = null, FileUploads? uploads = null)
    {
        _store = store;
        _catalog = catalog;
        _uploads = uploads;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Starts the periodic sweep (the first one runs at once).</summary>
    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval, _time);
        do
        {
            try
            {
                await SweepAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A backend outage: the next sweep tries again; nothing expires early meanwhile.
                LogFailed(_logger, e);
            }
        }
        while (await WaitAsync(timer));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One full sweep; returns what it deleted.</summary>
    public async Task<SweepResult> SweepAsync(CancellationToken ct)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        int uploads = 0, files = 0, contents = 0, leftovers = 0;
        while (true)
        {
            var expired = await _catalog.ExpiredUploadsAsync(now, BatchSize, ct);
            foreach (long id in expired)
            {
                // Row first: a PATCH racing with the sweep then finds no upload (404) rather than bytes without a row.
                await _catalog.DeleteUploadAsync(id, ct);
                await _store.AbortUploadAsync(id, ct);
                _uploads?.Stats.Failed(UploadFailure.Expired);
            }
            uploads += expired.Count;
            if (expired.Count < BatchSize) break;
        }
        long createdBefore = now - (long)FileTransferOptions.UnreferencedLifetime.TotalMilliseconds;
        while (true)
        {
            var (f, c) = await _catalog.SweepUnreferencedAsync(createdBefore, BatchSize, (key, t) => _store.DeleteAsync(key, t), ct);
            files += f;
            contents += c;
            if (f < BatchSize) break;
        }
        var staged = _store.StagedUploads();
        if (staged.Count > 0)
        {
            var known = await _catalog.KnownUploadsAsync(staged, ct);
            foreach (long id in staged)
            {
                if (known.Contains(id)) continue;
                await _store.AbortUploadAsync(id, ct);
                leftovers++;
            }
        }
        // What a crash left that no row names (docs/files.md, "Expiry"): contents whose upload never committed, and
        // temporary files; only once older than OrphanAge, as a completing upload's content exists a moment before its row.
        long writtenBefore = now - (long)OrphanAge.TotalMilliseconds;
        int orphans = 0;
        foreach (var batch in _store.ContentsWrittenBefore(writtenBefore).Chunk(BatchSize))
            orphans += await _catalog.DeleteUnknownContentsAsync(batch, (key, t) => _store.DeleteAsync(key, t), ct);
        int strays = _store.DeleteStrays(writtenBefore);
        var result = new SweepResult(uploads, files, contents, leftovers, orphans, strays);
        if (uploads + files + contents + leftovers > 0) LogSwept(_logger, uploads, files, contents, leftovers);
        if (orphans + strays > 0) LogOrphans(_logger, orphans, strays);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "file sweep: {Uploads} expired upload(s), {Files} unreferenced file(s), {Contents} content(s) and {Leftovers} leftover staging area(s) deleted")]
    private static partial void LogSwept(ILogger logger, int uploads, int files, int contents, int leftovers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "file sweep: {Orphans} content file(s) without a row and {Strays} stray file(s) deleted (left by a crash)")]
    private static partial void LogOrphans(ILogger logger, int orphans, int strays);

    [LoggerMessage(Level = LogLevel.Error, Message = "file sweep failed; the next one retries")]
    private static partial void LogFailed(ILogger logger, Exception error);
}

/// <summary>What one sweep deleted; <paramref name="OrphanContents"/> and <paramref name="Strays"/>: bytes a crash left that no row names.</summary>
public readonly record struct SweepResult(int Uploads, int Files, int Contents, int Leftovers, int OrphanContents = 0, int Strays = 0);
