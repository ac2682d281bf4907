using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using HdrHistogram;
using QkChat.Client;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// issue 4 "Benchmarks": N connections open during the ramp, then all send a password `login` at once when the ramp
/// ends (connection i as --prefix + i, accounts from `qkchatd provision-users`); once every login has answered, each
/// logged-in client closes, opens a new connection and resumes with `login_token` at once. Meanwhile --observers
/// connections (worker 0 only) send a heartbeat every 200 ms, to see what the storm does to clients already there.
/// Both storm phases are bounded by the measured window (--duration); what is unanswered by then is an error.
/// </summary>
public sealed class LoginStormScenario : IScenario
{
    /// <summary>Error code of a login or resume still unanswered when the window (the storm's hard limit) ended.</summary>
    public const string Unanswered = "CLIENT_UNANSWERED_AT_DEADLINE";

    /// <summary>The observer cadence: often enough to see a stall of a few hundred ms, light for the server.</summary>
    private static readonly TimeSpan ObserverInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Wait after SERVER_BUSY when the answer carries no retry_after_ms. 200 ms: about one batch of hashes
    /// of a 2-core server (17 ms per hash, docs/passwords.md), so a retry finds room without hammering.</summary>
    private static readonly TimeSpan DefaultBusyWait = TimeSpan.FromMilliseconds(200);

    private readonly PhaseStats _logins = new(), _resumes = new();
    private readonly LongConcurrentHistogram _observerLatency = RunStats.NewHistogram();
    private ConnectionSet? _connections;
    private int _observerCount;

    public bool AllAttempted => _connections?.AllAttempted.IsCompleted ?? false;

    public StormResult Storm => new()
    {
        Logins = _logins.ToPhase(),
        Resumes = _resumes.ToPhase(),
        Observers = _observerCount,
        ObserverHistogramPairs = HistogramCodec.ToPairs(_observerLatency),
    };

    public async Task RunAsync(ScenarioContext context)
    {
        RunClock clock = context.Clock;
        // Observers stop when the storm is over; their own cancellation, so they end before the connections close.
        using var stormOver = CancellationTokenSource.CreateLinkedTokenSource(context.HardStop);
        Task observers = context.Share.Index == 0 ? RunObserversAsync(context, stormOver.Token) : Task.CompletedTask;

        await using var connections = _connections = new ConnectionSet(context);
        var clients = new ChatClient?[context.Share.Connections];
        await connections.StartOpeningAsync((client, i) => clients[i] = client).ConfigureAwait(false);
        await Waits.UntilAsync(clock.RampEndTimestamp, context.HardStop).ConfigureAwait(false);

        // Phase 1: every open connection sends `login` now. The window's end bounds the whole storm.
        int first = FirstIndex(context);
        var tokens = new string?[clients.Length];
        _logins.Start();
        var logins = new Task[clients.Length];
        for (int i = 0; i < clients.Length; i++)
        {
            int k = i;
            logins[k] = clients[k] is { } c
                ? AskAsync(c, Actions.Login, _logins, context, w => Login(w, context, first + k), data => tokens[k] = data.GetProperty("token").GetString())
                : Task.CompletedTask;
        }
        await Waits.ForAsync(Task.WhenAll(logins), clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);

        // Phase 2: the old connections close (a resume with the same client_id would kick them), new ones open, then
        // all resume at once. Opening is not timed: it is the connect path, measured by the other scenarios.
        await Task.WhenAll(clients.Where(c => c is not null).Select(c => c!.DisposeAsync().AsTask())).ConfigureAwait(false);
        var fresh = await OpenAllAsync(context, tokens).ConfigureAwait(false);
        _resumes.Start();
        var resumes = new Task[fresh.Length];
        for (int i = 0; i < fresh.Length; i++)
        {
            int k = i;
            resumes[k] = fresh[k] is { } c && tokens[k] is { } token
                ? AskAsync(c, Actions.LoginToken, _resumes, context, w => Resume(w, token, first + k), null)
                : Task.CompletedTask;
        }
        await Waits.ForAsync(Task.WhenAll(resumes), clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
        await stormOver.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(fresh.Where(c => c is not null).Select(c => c!.DisposeAsync().AsTask())).ConfigureAwait(false);
        await Waits.ForAsync(observers, clock.DeadlineTimestamp, context.HardStop).ConfigureAwait(false);
    }

    /// <summary>This worker's first account index: workers take consecutive slices, as WorkerShare splits them.</summary>
    private static int FirstIndex(ScenarioContext context)
    {
        int n = context.Options.Connections, w = context.Share.Count, first = 0;
        for (int i = 0; i < context.Share.Index; i++) first += n / w + (i < n % w ? 1 : 0);
        return first;
    }

    private static void Login(Utf8JsonWriter w, ScenarioContext context, int index)
    {
        w.WriteString("username", context.Options.Prefix + index.ToString("D6", CultureInfo.InvariantCulture));
        w.WriteString("password", context.Options.Password);
        w.WriteString("client_id", ClientId(index));
    }

    private static void Resume(Utf8JsonWriter w, string token, int index)
    {
        w.WriteString("token", token);
        w.WriteString("client_id", ClientId(index));
    }

    private static string ClientId(int index) => "lg-" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>One login or resume: send, retry after SERVER_BUSY (if asked), time first send to OK.</summary>
    private static async Task AskAsync(ChatClient client, string action, PhaseStats phase, ScenarioContext context,
        Action<Utf8JsonWriter> fields, Action<JsonElement>? onOk)
    {
        RunClock clock = context.Clock;
        long sent = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref phase.Attempted);
        while (true)
        {
            // No request timeout inside the storm: a login may wait behind thousands of hashes; the window bounds it.
            TimeSpan left = TimeSpan.FromSeconds((clock.WindowEndTimestamp - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            string? failure = null;
            try
            {
                if (left <= TimeSpan.Zero) throw new TimeoutException();
                Envelope response = await client.RequestAsync(action, fields, left, context.HardStop).ConfigureAwait(false);
                if (response.Success == true)
                {
                    long now = Stopwatch.GetTimestamp();
                    if (response.Data is { } data) onOk?.Invoke(data);
                    phase.Ok((now - sent) * 1_000_000 / Stopwatch.Frequency);
                    context.Stats.RoundTrip((now - sent) * 1_000_000 / Stopwatch.Frequency, inWindow: false);
                    return;
                }
                failure = response.Code ?? "NO_CODE";
                if (failure == ErrorCodes.ServerBusy && context.Options.RetryBusy)
                {
                    Interlocked.Increment(ref phase.Busy);
                    await Task.Delay(BusyWait(response), context.HardStop).ConfigureAwait(false);
                    continue;
                }
            }
            catch (TimeoutException)
            {
                failure = Unanswered;
            }
            catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
            {
                failure = "CLIENT_CLOSED_BY_SERVER";
            }
            catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
            {
                failure = Unanswered;
            }
            phase.Error(failure);
            context.Stats.Error(failure);
            return;
        }
    }

    /// <summary>retry_after_ms when the server gives one, else 200 ms; times 0.5-1.5 so retries do not come back in step.</summary>
    private static TimeSpan BusyWait(Envelope response)
    {
        TimeSpan wait = DefaultBusyWait;
        if (response.Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("retry_after_ms", out JsonElement ms)
            && ms.TryGetInt32(out int millis) && millis > 0)
        {
            wait = TimeSpan.FromMilliseconds(millis);
        }
        return wait * (0.5 + Random.Shared.NextDouble());
    }

    /// <summary>New connections for the resume phase, one per token, with the set's concurrency bound.</summary>
    private static async Task<ChatClient?[]> OpenAllAsync(ScenarioContext context, string?[] tokens)
    {
        var fresh = new ChatClient?[tokens.Length];
        using var gate = new SemaphoreSlim(context.Options.ConnectConcurrency);
        var opening = new List<Task>();
        for (int i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] is null) continue;
            int k = i;
            opening.Add(Task.Run(async () =>
            {
                await gate.WaitAsync(context.HardStop).ConfigureAwait(false);
                try
                {
                    NodeEndpoint node = context.EndpointFor(k);
                    fresh[k] = await context.ConnectAsync(node, context.ClientOptionsFor(k), context.HardStop)
                        .ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    context.Stats.ConnectionFailed("Resume" + e.GetType().Name);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        await Waits.ForAsync(Task.WhenAll(opening), context.Clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
        return fresh;
    }

    private async Task RunObserversAsync(ScenarioContext context, CancellationToken stop)
    {
        int count = context.Options.Observers;
        var loops = new List<Task>(count);
        for (int i = 0; i < count; i++)
        {
            ChatClient client;
            try
            {
                // Their own source-address turn from the end of the list, so they rarely share with the storm's first.
                NodeEndpoint node = context.Options.EndpointFor(i); // observers spread over the nodes like the storm
                client = await context.ConnectAsync(node, context.ClientOptionsFor(int.MaxValue - i), stop)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                context.Stats.ConnectionFailed("Observer" + e.GetType().Name);
                continue;
            }
            Interlocked.Increment(ref _observerCount);
            loops.Add(ObserveAsync(client, context, stop));
        }
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task ObserveAsync(ChatClient client, ScenarioContext context, CancellationToken stop)
    {
        await using (client.ConfigureAwait(false))
        {
            // A random phase inside the first interval, so the observers do not all fire together.
            long due = Stopwatch.GetTimestamp() + RunClock.ToTicks(ObserverInterval.TotalSeconds * Random.Shared.NextDouble());
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await RunClock.DelayUntil(due, stop).ConfigureAwait(false);
                    due += RunClock.ToTicks(ObserverInterval.TotalSeconds);
                    long sent = Stopwatch.GetTimestamp();
                    Envelope response = await client.RequestAsync(Actions.Heartbeat, null, context.RequestTimeout, context.HardStop).ConfigureAwait(false);
                    if (response.Success == true)
                        _observerLatency.RecordValue(Math.Clamp((Stopwatch.GetTimestamp() - sent) * 1_000_000 / Stopwatch.Frequency, 1, RunStats.HighestTrackableMicros));
                    else
                        context.Stats.Error("OBSERVER_" + (response.Code ?? "NO_CODE"));
                }
                catch (TimeoutException)
                {
                    context.Stats.Error("OBSERVER_CLIENT_TIMEOUT");
                }
                catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
                {
                    context.Stats.ConnectionDropped("Observer" + e.Info.Reason);
                    return;
                }
                catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One phase's counters, updated from many threads.</summary>
    private sealed class PhaseStats
    {
        public long Attempted, Busy, Succeeded, StartUnixMs, LastOkUnixMs;
        private readonly ConcurrentDictionary<string, StrongBox<long>> _errors = new();
        private readonly LongConcurrentHistogram _latency = RunStats.NewHistogram();

        public void Start() => StartUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public void Ok(long micros)
        {
            Interlocked.Increment(ref Succeeded);
            _latency.RecordValue(Math.Clamp(micros, 1, RunStats.HighestTrackableMicros));
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long seen;
            while ((seen = Interlocked.Read(ref LastOkUnixMs)) < now && Interlocked.CompareExchange(ref LastOkUnixMs, now, seen) != seen)
            {
            }
        }

        public void Error(string code) => Interlocked.Increment(ref _errors.GetOrAdd(code, static _ => new StrongBox<long>()).Value);

        public StormPhase ToPhase() => new()
        {
            Attempted = Interlocked.Read(ref Attempted),
            Succeeded = Interlocked.Read(ref Succeeded),
            BusyAnswers = Interlocked.Read(ref Busy),
            Errors = _errors.ToDictionary(p => p.Key, p => Interlocked.Read(ref p.Value.Value), StringComparer.Ordinal),
            StartUnixMs = StartUnixMs,
            LastOkUnixMs = Interlocked.Read(ref LastOkUnixMs),
            HistogramPairs = HistogramCodec.ToPairs(_latency),
        };
    }
}
