using Microsoft.Extensions.Logging;
using QkChat.Core;
using QkChat.Core.Audit;

namespace QkChat.Server.Audit;

/// <summary>
/// Enforces audit.retention_days: a minute after start and then hourly, deletes rows older than the retention in
/// batches of <see cref="BatchRows"/> with a short pause between them, so the purge of a large backlog never holds
/// locks or the disk for long. The retention is read at each pass, so a reload takes effect at the next one.
/// </summary>
public sealed partial class AuditRetention : IAsyncDisposable
{
    public const int BatchRows = 1000;
    private static readonly TimeSpan FirstPass = TimeSpan.FromMinutes(1), Interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan BatchPause = TimeSpan.FromMilliseconds(50);

    private readonly MySqlAuditStore _store;
    private readonly AuditOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public AuditRetention(MySqlAuditStore store, AuditOptions options, ILogger logger)
    {
        _store = store;
        _options = options;
        _logger = logger;
        _loop = RunAsync();
    }

    private async Task RunAsync()
    {
        try
        {
            await Task.Delay(FirstPass, _stop.Token);
            while (true)
            {
                try
                {
                    await PurgeAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _stop.Token);
                }
                catch (BackendUnavailableException e)
                {
                    LogPurgeFailed(_logger, e.Message); // the next pass catches up
                }
                await Task.Delay(Interval, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One pass: deletes every row older than the retention, batch by batch; returns how many.</summary>
    public async Task<long> PurgeAsync(long nowMs, CancellationToken ct)
    {
        long cutoff = nowMs - _options.RetentionDays * 86_400_000L;
        long total = 0;
        while (true)
        {
            int deleted = await _store.DeleteOlderThanAsync(cutoff, BatchRows, ct);
            total += deleted;
            if (deleted < BatchRows) break;
            await Task.Delay(BatchPause, ct);
        }
        if (total > 0) LogPurged(_logger, total, _options.RetentionDays);
        return total;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "audit retention: {Count} event(s) older than {Days} days deleted")]
    private static partial void LogPurged(ILogger logger, long count, int days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "audit retention pass failed: {Error}")]
    private static partial void LogPurgeFailed(ILogger logger, string error);
}
