using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.LoadGen.Fuzz;

/// <summary>The fuzz subcommand's settings (docs/loadgen.md "fuzz").</summary>
public sealed class FuzzOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 8080;
    /// <summary>Frames to send in all (a pipeline counts each of its frames); the run's only bound.</summary>
    public long Frames { get; set; } = 10_000;
    public int Seed { get; set; } = 1;
    /// <summary>Fuzzing connections; 4 keeps a 2-core server busy without the client starving it.</summary>
    public int Connections { get; set; } = 4;
    /// <summary>Accounts Prefix000000.. (qkchatd provision-users) to log in as, so authenticated actions are reached; none: anonymous.</summary>
    public string? Prefix { get; set; }
    public string? Password { get; set; }
    public int? ServerPid { get; set; }
    /// <summary>How long an answer may take before the server counts as hung: generous for a loaded 2-core box.</summary>
    public TimeSpan AnswerTimeout { get; set; } = TimeSpan.FromSeconds(15);
    public int MaxFrameBytes { get; set; } = Framing.DefaultMaxFrameBytes;
    /// <summary>
    /// The loopback source address to connect from (none: the OS's choice). Per-address budgets (verification codes
    /// per hour, failed logins) key on it, so a test gives the fuzzer an address of its own and leaves 127.0.0.1's
    /// budgets to other tests.
    /// </summary>
    public System.Net.IPAddress? LocalAddress { get; set; }
}

/// <summary>What a run saw; <see cref="Findings"/> empty means the server passed.</summary>
public sealed class FuzzReport
{
    public long Frames;
    public long Cases;
    public long Reconnects;
    public TimeSpan Elapsed;
    public ConcurrentDictionary<string, long> AnswersByCode { get; } = new();
    public ConcurrentQueue<string> Findings { get; } = new();
    public List<double> HeartbeatMs { get; } = [];
    public long? RssBeforeKiB, RssAfterKiB;

    public double Percentile(double p)
    {
        if (HeartbeatMs.Count == 0) return double.NaN;
        var sorted = HeartbeatMs.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)(p / 100 * sorted.Length))];
    }
}

/// <summary>
/// Runs the fuzzer: each connection sends generated cases and, after each, a marker heartbeat: the marker must
/// answer (the server is alive and did not drop the connection without a word), no answer may be INTERNAL, and a
/// close must have been announced (an error or kicked push) or be allowed by the case. An observer connection
/// heartbeats every 20 ms meanwhile for the latency figures.
/// </summary>
public sealed class FuzzRunner(FuzzOptions options, TextWriter log)
{
    private static readonly TimeSpan ObserverInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>A progress line per this many frames: a long run shows its figures before it ends.</summary>
    private const long ProgressEvery = 100_000;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly FuzzReport _report = new();
    private readonly List<long> _userIds = [];
    private long _budget;

    public async Task<FuzzReport> RunAsync(CancellationToken ct)
    {
        _report.RssBeforeKiB = Rss();
        _budget = options.Frames;
        var started = Stopwatch.StartNew();
        // Log every account in first, so that templates can name real users (friend, message and block paths).
        var first = new ChatClient?[options.Connections];
        for (int i = 0; i < options.Connections; i++) first[i] = await ConnectAsync(i, ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var observer = ObserveAsync(stop.Token);
        await Task.WhenAll(Enumerable.Range(0, options.Connections).Select(i => Task.Run(() => FuzzAsync(i, first[i]!, ct), ct)));
        _report.Elapsed = started.Elapsed;
        await stop.CancelAsync();
        await observer;
        await FinalCheckAsync(ct);
        _report.RssAfterKiB = Rss();
        return _report;
    }

    private async Task FuzzAsync(int worker, ChatClient client, CancellationToken ct)
    {
        var generator = new FrameGenerator(options.Seed + worker * 7919, _userIds, options.MaxFrameBytes);
        for (long n = 0; !ct.IsCancellationRequested && _report.Findings.IsEmpty; n++)
        {
            var c = generator.Next();
            if (Interlocked.Add(ref _budget, -c.Frames) < -c.Frames + 1) break;
            long sent = Interlocked.Add(ref _report.Frames, c.Frames);
            if (sent / ProgressEvery != (sent - c.Frames) / ProgressEvery) Progress(sent);
            Interlocked.Increment(ref _report.Cases);
            string where = $"seed {options.Seed} connection {worker} case {n} ({c.Class})";
            try
            {
                foreach (var write in c.Writes) await client.SendRawAsync(write, ct);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Closed while writing: judged below like any close.
            }
            if (c.Desyncs)
            {
                Drain(client, where, c);
                await client.DisposeAsync();
                client = await ConnectAsync(worker, ct);
                continue;
            }
            bool alive;
            try
            {
                alive = (await client.RequestAsync(Actions.Heartbeat, timeout: options.AnswerTimeout, ct: ct)).Code == ErrorCodes.Ok;
            }
            catch (TimeoutException)
            {
                Find($"{where}: no answer to a heartbeat within {options.AnswerTimeout.TotalSeconds:0} s after", c);
                return;
            }
            catch (Exception e) when (!client.IsConnected && e is not OperationCanceledException)
            {
                alive = false;
            }
            bool announced = Drain(client, where, c);
            // After a case that may close (logout closes once its revocation is done, which can be after the
            // marker's answer) the connection starts afresh, so a late close is never blamed on the next case.
            if ((alive || client.IsConnected) && !c.MayClose) continue;
            if (!client.IsConnected && !c.MayClose && !announced)
                Find($"{where}: the connection closed ({client.CloseInfo}) without an answer or an error push after", c);
            await client.DisposeAsync();
            client = await ConnectAsync(worker, ct);
        }
        await client.DisposeAsync();
    }

    /// <summary>Counts what arrived; true when a push announced a close (error, kicked).</summary>
    private bool Drain(ChatClient client, string where, FuzzCase c)
    {
        bool announced = false;
        while (client.TryReceiveAny(out var e))
        {
            if (e.Push)
            {
                announced |= e.Action is PushNames.Error or PushNames.Kicked;
                if (e.Action == PushNames.Error)
                {
                    // An error push carries its code in data (protocol.md §6).
                    string code = e.Data is { ValueKind: System.Text.Json.JsonValueKind.Object } d && d.TryGetProperty("code", out var c2)
                        ? c2.GetString() ?? "?" : "?";
                    _report.AnswersByCode.AddOrUpdate("error push " + code, 1, (_, v) => v + 1);
                }
                continue;
            }
            _report.AnswersByCode.AddOrUpdate(e.Code ?? "(none)", 1, (_, v) => v + 1);
            if (e.Code == ErrorCodes.Internal) Find($"{where}: INTERNAL answer to {e.Action}: {e.Message}", c);
        }
        return announced;
    }

    private async Task<ChatClient> ConnectAsync(int worker, CancellationToken ct)
    {
        var client = await ChatClient.ConnectAsync(options.Host, options.Port, new ChatClientOptions
        {
            RequestTimeout = options.AnswerTimeout,
            MaxFrameBytes = options.MaxFrameBytes,
            LocalAddress = options.LocalAddress,
        }, ct);
        Interlocked.Increment(ref _report.Reconnects);
        if (options.Prefix is null) return client;
        var answer = await client.RequestAsync(Actions.Login, w =>
        {
            w.WriteString("username", options.Prefix + worker.ToString("D6", CultureInfo.InvariantCulture));
            w.WriteString("password", options.Password);
            w.WriteString("client_id", "fuzz-" + worker);
        }, ct: ct);
        // A login refused (rate limited after the fuzzer's own failed logins) leaves the connection anonymous: fuzzing
        // goes on, the authenticated actions answer UNAUTHENTICATED until the next reconnect.
        if (answer.Code == ErrorCodes.Ok && answer.Data is { } data)
        {
            lock (_userIds)
            {
                long id = data.GetProperty("user_id").GetInt64();
                if (!_userIds.Contains(id)) _userIds.Add(id);
            }
        }
        return client;
    }

    private async Task ObserveAsync(CancellationToken ct)
    {
        ChatClient? client = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                client ??= await ChatClient.ConnectAsync(options.Host, options.Port, new ChatClientOptions { LocalAddress = options.LocalAddress }, ct);
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    await client.RequestAsync(Actions.Heartbeat, timeout: options.AnswerTimeout, ct: ct);
                    lock (_report.HeartbeatMs) _report.HeartbeatMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
                catch (Exception) when (!client.IsConnected)
                {
                    // The login timeout closes an anonymous observer; it reconnects.
                    await client.DisposeAsync();
                    client = null;
                }
                await Task.Delay(ObserverInterval, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        if (client is not null) await client.DisposeAsync();
    }

    private async Task FinalCheckAsync(CancellationToken ct)
    {
        try
        {
            await using var client = await ChatClient.ConnectAsync(options.Host, options.Port, new ChatClientOptions { LocalAddress = options.LocalAddress }, ct);
            var answer = await client.RequestAsync(Actions.Heartbeat, timeout: options.AnswerTimeout, ct: ct);
            if (answer.Code != ErrorCodes.Ok) _report.Findings.Enqueue($"final heartbeat answered {answer.Code}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _report.Findings.Enqueue($"final heartbeat on a new connection failed: {e.GetType().Name} {e.Message}");
        }
    }

    private void Progress(long frames)
    {
        double ms50, ms99;
        lock (_report.HeartbeatMs) (ms50, ms99) = (_report.Percentile(50), _report.Percentile(99));
        string codes = string.Join(", ", _report.AnswersByCode.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"));
        lock (log) log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"progress: {frames} frames, {_clock.Elapsed.TotalSeconds:0} s, heartbeat p50 {ms50:0.0} ms p99 {ms99:0.0} ms, server RSS {Rss()} KiB; {codes}"));
    }

    private void Find(string what, FuzzCase c)
    {
        string finding = what + " " + FrameGenerator.Show(c);
        _report.Findings.Enqueue(finding);
        lock (log) log.WriteLine("FINDING " + finding);
    }

    private long? Rss()
    {
        if (options.ServerPid is not { } pid) return null;
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}
