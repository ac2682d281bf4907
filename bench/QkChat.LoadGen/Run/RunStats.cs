using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using HdrHistogram;

namespace QkChat.LoadGen.Run;

/// <summary>Counters one process updates during a run, from many threads at once.</summary>
public sealed class RunStats
{
    /// <summary>Latencies are recorded in microseconds up to 60 s (anything slower already failed the 10 s timeout),
    /// to 3 significant digits: 0.1% resolution, the HdrHistogram default for latency.</summary>
    public const long HighestTrackableMicros = 60_000_000;
    public const int SignificantDigits = 3;

    private readonly ConcurrentDictionary<string, StrongBox<long>> _connectFailures = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _drops = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _errors = new();
    private long _opened, _failed, _dropped, _roundTripsAll, _roundTripsWindow, _errorCount;
    private long _keepaliveSent, _keepaliveOk, _keepaliveFailed;

    public LongConcurrentHistogram Latency { get; } = NewHistogram();

    /// <summary>The same latencies per second of the window (the latency-over-time chart); null in tests.</summary>
    public LatencySeries? Series { get; init; }

    public long Opened => Interlocked.Read(ref _opened);
    public long Failed => Interlocked.Read(ref _failed);
    public long Dropped => Interlocked.Read(ref _dropped);
    public long RoundTripsAll => Interlocked.Read(ref _roundTripsAll);
    public long RoundTripsWindow => Interlocked.Read(ref _roundTripsWindow);
    public long Errors => Interlocked.Read(ref _errorCount);

    /// <summary>The keepalive's heartbeats (<see cref="Keepalive"/>): kept apart from the scenario's requests, which
    /// they are not (no round trip, no error, no action, no success-rate request).</summary>
    public long KeepaliveSent => Interlocked.Read(ref _keepaliveSent);
    public long KeepaliveOk => Interlocked.Read(ref _keepaliveOk);

    /// <summary>Answered with an error or not within the request timeout.</summary>
    public long KeepaliveFailed => Interlocked.Read(ref _keepaliveFailed);

    public void KeepaliveStarted() => Interlocked.Increment(ref _keepaliveSent);

    public void KeepaliveAnswered(bool ok) => Interlocked.Increment(ref ok ? ref _keepaliveOk : ref _keepaliveFailed);

    public static LongConcurrentHistogram NewHistogram() => new(1, HighestTrackableMicros, SignificantDigits);

    public void ConnectionOpened() => Interlocked.Increment(ref _opened);

    public void ConnectionFailed(string reason)
    {
        Interlocked.Increment(ref _failed);
        Bump(_connectFailures, reason);
    }

    public void ConnectionDropped(string reason)
    {
        Interlocked.Increment(ref _dropped);
        Bump(_drops, reason);
    }

    /// <summary>A response arrived; counted and timed only when its request belongs to the measured window
    /// (<paramref name="inWindow"/>: sent inside it, docs/loadgen.md "The timeline of a run"). The per-second series
    /// files it under the second its request was sent (<paramref name="sentTimestamp"/>; 0: now).</summary>
    public void RoundTrip(long micros, bool inWindow, long sentTimestamp = 0)
    {
        Interlocked.Increment(ref _roundTripsAll);
        if (!inWindow) return;
        Interlocked.Increment(ref _roundTripsWindow);
        Latency.RecordValue(Math.Clamp(micros, 1, HighestTrackableMicros));
        Series?.Record(sentTimestamp != 0 ? sentTimestamp : System.Diagnostics.Stopwatch.GetTimestamp(), micros);
    }

    /// <summary>An error response (its code) or a client-side failure (timeout), at any time of the run.</summary>
    public void Error(string code)
    {
        Interlocked.Increment(ref _errorCount);
        Bump(_errors, code);
    }

    public Dictionary<string, long> ConnectFailuresByReason => Snapshot(_connectFailures);
    public Dictionary<string, long> DropsByReason => Snapshot(_drops);
    public Dictionary<string, long> ErrorsByCode => Snapshot(_errors);

    private static void Bump(ConcurrentDictionary<string, StrongBox<long>> counts, string key) =>
        Interlocked.Increment(ref counts.GetOrAdd(key, static _ => new StrongBox<long>()).Value);

    private static Dictionary<string, long> Snapshot(ConcurrentDictionary<string, StrongBox<long>> counts) =>
        counts.ToDictionary(p => p.Key, p => Interlocked.Read(ref p.Value.Value), StringComparer.Ordinal);
}
