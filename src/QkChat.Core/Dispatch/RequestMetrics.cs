using System.Diagnostics;

namespace QkChat.Core.Dispatch;

/// <summary>
/// The request counters of every reactor, and their sums for readers (/metrics, the dashboard's sampler). Each
/// connection takes its reactor's <see cref="RequestStats"/> when it opens; readers walk all of them. Reading
/// allocates (a few small lists per scrape); recording never does.
/// </summary>
public sealed class RequestMetrics(ActionRouter router)
{
    private readonly Lock _gate = new();
    private RequestStats[] _reactors = [];

    /// <summary>
    /// The stats of reactor <paramref name="reactorIndex"/>, made on its first connection (the dispatcher does not
    /// know the reactor count; routes are all registered by then, see <see cref="RequestStats.Rows"/>).
    /// </summary>
    public RequestStats For(int reactorIndex)
    {
        var current = Volatile.Read(ref _reactors);
        if (reactorIndex < current.Length && current[reactorIndex] is { } stats) return stats;
        lock (_gate)
        {
            current = _reactors;
            if (reactorIndex >= current.Length) Array.Resize(ref current, reactorIndex + 1);
            else current = (RequestStats[])current.Clone();
            current[reactorIndex] ??= new RequestStats(router.Count + 1);
            Volatile.Write(ref _reactors, current);
            return current[reactorIndex];
        }
    }

    /// <summary>The action label of a row.</summary>
    public string ActionOf(int row) => row == RequestStats.RejectedRow ? RequestStats.RejectedAction : router.NameOf(row - 1);

    private IEnumerable<RequestStats> Reactors() => Volatile.Read(ref _reactors).Where(r => r is not null);

    private int Rows() => Reactors().Select(r => r.Rows).DefaultIfEmpty(0).Max();

    /// <summary>Requests by action and code, summed over the reactors; only the pairs that occurred.</summary>
    public List<(string Action, string Code, long Count)> Counts()
    {
        var result = new List<(string, string, long)>();
        var reactors = Reactors().ToArray();
        for (int row = 0, rows = Rows(); row < rows; row++)
        {
            for (int code = 0; code < RequestStats.Codes.Length; code++)
            {
                long total = 0;
                foreach (var r in reactors) if (row < r.Rows) total += r.Count(row, code);
                if (total > 0) result.Add((ActionOf(row), RequestStats.Codes[code], total));
            }
        }
        return result;
    }

    /// <summary>The latency histogram of each action that has answered a request: buckets (not cumulative) and the sum.</summary>
    public List<(string Action, long[] Buckets, double SumSeconds)> Latencies()
    {
        var result = new List<(string, long[], double)>();
        var reactors = Reactors().ToArray();
        for (int row = 0, rows = Rows(); row < rows; row++)
        {
            var buckets = new long[LatencyBuckets.Count];
            long count = 0, sumTicks = 0;
            foreach (var r in reactors)
            {
                if (row >= r.Rows) continue;
                for (int b = 0; b < buckets.Length; b++)
                {
                    long n = r.Bucket(row, b);
                    buckets[b] += n;
                    count += n;
                }
                sumTicks += r.SumTicks(row);
            }
            if (count > 0) result.Add((ActionOf(row), buckets, sumTicks / (double)Stopwatch.Frequency));
        }
        return result;
    }

    /// <summary>
    /// Every action merged: the count per code (<see cref="RequestStats.Codes"/> order) and per latency bucket, into
    /// the caller's arrays (the sampler reads this once a second and keeps the previous read for the deltas).
    /// </summary>
    public void ReadTotals(Span<long> codeTotals, Span<long> buckets)
    {
        codeTotals.Clear();
        buckets.Clear();
        foreach (var r in Reactors())
        {
            for (int row = 0; row < r.Rows; row++)
            {
                for (int c = 0; c < codeTotals.Length; c++) codeTotals[c] += r.Count(row, c);
                for (int b = 0; b < buckets.Length; b++) buckets[b] += r.Bucket(row, b);
            }
        }
    }
}
