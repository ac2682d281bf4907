using QkChat.Core.Dispatch;

namespace QkChat.Server.Admin;

/// <summary>
/// One sampling window's requests, all actions together: how many, the percentage that failed on the server's side
/// (<see cref="RequestStats.IsServerError"/>), and latency percentiles in ms (NaN when the window had no request).
/// </summary>
public readonly record struct RequestFigures(long Requests, double PerSecond, double ErrorPercent, double P50Ms, double P90Ms, double P99Ms)
{
    public static readonly RequestFigures None = new(0, 0, 0, double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// Turns the ever-growing request counters into per-window figures: each <see cref="Take"/> reads the totals of
/// every reactor and action and subtracts the previous read, so the percentiles are those of the requests answered
/// in the window, not since start. Used by the sampler's one thread only.
/// </summary>
public sealed class RequestWindow
{
    private readonly RequestMetrics? _requests;
    private readonly long[] _codes = new long[RequestStats.Codes.Length];
    private readonly long[] _lastCodes = new long[RequestStats.Codes.Length];
    private readonly long[] _buckets = new long[LatencyBuckets.Count];
    private readonly long[] _lastBuckets = new long[LatencyBuckets.Count];
    private readonly long[] _delta = new long[LatencyBuckets.Count];

    public RequestWindow(RequestMetrics? requests)
    {
        _requests = requests;
        // The first window starts now, not at the server's start.
        requests?.ReadTotals(_lastCodes, _lastBuckets);
    }

    /// <param name="seconds">The window's length, for the rate.</param>
    public RequestFigures Take(double seconds)
    {
        if (_requests is null) return RequestFigures.None;
        _requests.ReadTotals(_codes, _buckets);
        long total = 0, errors = 0;
        for (int c = 0; c < _codes.Length; c++)
        {
            long d = _codes[c] - _lastCodes[c];
            total += d;
            if (RequestStats.IsServerError(c)) errors += d;
        }
        for (int b = 0; b < _buckets.Length; b++) _delta[b] = Math.Max(0, _buckets[b] - _lastBuckets[b]);
        _codes.CopyTo(_lastCodes, 0);
        _buckets.CopyTo(_lastBuckets, 0);
        if (total <= 0) return RequestFigures.None;
        return new RequestFigures(total, total / Math.Max(1e-3, seconds), errors * 100.0 / total,
            LatencyBuckets.QuantileMs(_delta, 0.50), LatencyBuckets.QuantileMs(_delta, 0.90), LatencyBuckets.QuantileMs(_delta, 0.99));
    }
}
