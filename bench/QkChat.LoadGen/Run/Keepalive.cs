using System.Diagnostics;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.LoadGen.Run;

/// <summary>
/// Heartbeats on this process's connections that have written nothing for --keepalive seconds (docs/loadgen.md
/// "Keepalive"). qkchatd closes a logged-in connection silent for server.idle_timeout_s (60 s by default,
/// QKCHAT_IDLE_TIMEOUT_S; protocol.md §4): a chat user waiting through a long ramp with --send-after-ramp, a group
/// member that only receives, or a connection holding still while its upload goes over HTTP would be closed and
/// counted as dropped. One timer per process scans every connection (<see cref="Scan"/>), so holding 15,000
/// connections costs one timer and a pass over an array each tick, not a timer per connection. The heartbeats'
/// answers are counted here only (<see cref="RunStats.KeepaliveSent"/> ...), never as the scenario's requests.
/// </summary>
public sealed class Keepalive
{
    /// <summary>Scans per interval: a connection silent for the interval is found at most a quarter of it later, so
    /// a 20 s interval heartbeats after 20-25 s of silence, well inside the server's 60 s.</summary>
    public const int ScansPerInterval = 4;

    private readonly ChatClient?[] _clients;
    private readonly int[] _inFlight;   // 1 while connection i's keepalive heartbeat is unanswered
    private readonly long _intervalTicks;
    private readonly TimeSpan _timeout;
    private readonly RunStats _stats;
    private readonly CancellationToken _stop;

    /// <param name="clients">The connections, by index; a slot may be filled later (connections open over the ramp).</param>
    /// <param name="intervalSeconds">Silence, in seconds, after which a connection heartbeats (above 0).</param>
    /// <param name="timeout">How long a heartbeat may stay unanswered before it counts as failed.</param>
    public Keepalive(ChatClient?[] clients, double intervalSeconds, TimeSpan timeout, RunStats stats, CancellationToken stop)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(intervalSeconds);
        _clients = clients;
        _inFlight = new int[clients.Length];
        _intervalTicks = RunClock.ToTicks(intervalSeconds);
        _timeout = timeout;
        _stats = stats;
        _stop = stop;
        Tick = TimeSpan.FromSeconds(intervalSeconds / ScansPerInterval);
    }

    /// <summary>How often <see cref="RunAsync"/> scans: a quarter of the interval.</summary>
    public TimeSpan Tick { get; }

    /// <summary>The scheduling rule: a connection whose last write began <paramref name="intervalTicks"/> or more
    /// before <paramref name="now"/> is due a heartbeat (Stopwatch ticks).</summary>
    public static bool IsDue(long now, long lastWrite, long intervalTicks) => now - lastWrite >= intervalTicks;

    /// <summary>Scans every <see cref="Tick"/> until <paramref name="stop"/> (or the run's stop).</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false)) Scan(Stopwatch.GetTimestamp());
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>Starts a heartbeat on every open connection due at <paramref name="now"/>; returns how many. Skipped: a
    /// connection with a request of its own unanswered (a login behind the password queue: the server pauses a
    /// connection's input during such a request, so a heartbeat would only wait behind it, and the answer will count
    /// as the connection's activity anyway), and one whose previous keepalive is still unanswered.</summary>
    public int Scan(long now)
    {
        int started = 0;
        for (int i = 0; i < _clients.Length; i++)
        {
            ChatClient? client = Volatile.Read(ref _clients[i]);
            if (client is null || !client.IsConnected || client.PendingRequests > 0) continue;
            if (!IsDue(now, client.LastWriteTimestamp, _intervalTicks)) continue;
            if (Interlocked.CompareExchange(ref _inFlight[i], 1, 0) != 0) continue;
            started++;
            _ = BeatAsync(client, i);
        }
        return started;
    }

    private async Task BeatAsync(ChatClient client, int index)
    {
        _stats.KeepaliveStarted();
        bool? ok = null;
        try
        {
            Envelope r = await client.RequestAsync(Actions.Heartbeat, writeFields: null, _timeout, _stop).ConfigureAwait(false);
            ok = r.Success == true;
        }
        catch (TimeoutException)
        {
            ok = false;
        }
        catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
        {
            // The connection ended (a drop is counted by the connection set) or the run did: neither answered nor failed.
        }
        // Free before counting, so whoever sees the outcome counted may heartbeat the connection again.
        Volatile.Write(ref _inFlight[index], 0);
        if (ok is { } answered) _stats.KeepaliveAnswered(answered);
    }
}
