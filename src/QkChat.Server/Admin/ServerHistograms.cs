using QkChat.Core.Dispatch;

namespace QkChat.Server.Admin;

/// <summary>
/// The server's histograms for /metrics: request latency by action (qkchat_request_duration_seconds, summed over
/// the reactors) and the write-behind batchers' commit latency (qkchat_batch_commit_seconds). Both use
/// <see cref="LatencyBuckets"/>.
/// </summary>
public sealed class ServerHistograms(RequestMetrics? requests, IReadOnlyList<(string Name, LatencyHistogram Times)> batchers) : IHistogramSource
{
    public IEnumerable<HistogramFamily> Histograms()
    {
        if (requests is not null)
        {
            // Only actions that answered something: forty-odd empty series would triple the size of /metrics.
            var series = requests.Latencies()
                .Select(l => new HistogramSeries([new("action", l.Action)], l.Buckets, l.SumSeconds))
                .ToList();
            yield return new HistogramFamily("qkchat_request_duration_seconds",
                "Time from reading a request on its reactor to building its response, by action", LatencyBuckets.UpperBoundsSeconds, series);
        }
        var batches = new List<HistogramSeries>();
        foreach (var (name, times) in batchers)
        {
            var buckets = new long[LatencyBuckets.Count];
            times.CopyBuckets(buckets);
            batches.Add(new HistogramSeries([new("batcher", name)], buckets, times.SumSeconds));
        }
        yield return new HistogramFamily("qkchat_batch_commit_seconds",
            "Time one write-behind batch took to store and commit (or to fail), by batcher", LatencyBuckets.UpperBoundsSeconds, batches);
    }
}
