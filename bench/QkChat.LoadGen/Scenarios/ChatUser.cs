using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// One chat connection: logs in, then runs two independent loops. The send loop sends `send_message` to the partner
/// at --rate with at most --pipeline in flight; the receive side reads pushes (`message`, `offline_messages`,
/// `message_status`) as they come and queues the ids to acknowledge, which <see cref="AckTicker"/> sends. Neither
/// loop waits for the other: they share only the connection's writer lock, held for one frame write at a time.
/// The chat scenario's own frames (sends, acks, their answers, message pushes) go as bytes, not through
/// ChatClient's request objects (ChatUser.Wire.cs): that path is the load generator's cost per message.
/// </summary>
public sealed partial class ChatUser
{
    /// <summary>Most ids in one message_ack: the server's limit (MessagingService.MaxAckIds, 500).</summary>
    public const int MaxAckIds = 500;

    /// <summary>Wait after SERVER_BUSY to a login when the answer carries no retry_after_ms: about one batch of
    /// password hashes on a 2-core server (the login-storm scenario's value).</summary>
    private static readonly TimeSpan DefaultBusyWait = TimeSpan.FromMilliseconds(200);

    private readonly ScenarioContext _context;
    private readonly ChatCounters _counters;
    private readonly AckTicker _ticker;
    private readonly ChatClient _client;
    private readonly long _runId;
    private readonly Lock _ackLock = new();
    private readonly List<long> _toAck = [];
    private bool _queued;   // guarded by _ackLock: waiting in the ticker's queue
    private int _acksInFlight;
    private long _seq;
    private ActionCounter? _sendCounter, _ackCounter;   // looked up once: Actions.Record is a dictionary lookup

    public ChatUser(ScenarioContext context, ChatCounters counters, AckTicker ticker, ChatClient client, int account)
    {
        _context = context;
        _counters = counters;
        _ticker = ticker;
        _client = client;
        Account = account;
        _runId = context.Clock.StartUnixMs;
    }

    /// <summary>Index of the account: the username is --prefix + this, 6 digits.</summary>
    public int Account { get; }

    public uint UserId { get; private set; }

    /// <summary>The other half of the pair; set when both have logged in.</summary>
    public ChatUser? Partner { get; set; }

    /// <summary>Messages to this connection: the partner records its `sent` ids here, this receive loop the pushes.</summary>
    public DeliveryLedger Inbound { get; } = new();

    public ChatClient Client => _client;

    /// <summary>message_ack requests sent and not yet answered, timed out or drained by the connection's end.</summary>
    public int AcksInFlight => Volatile.Read(ref _acksInFlight);

    /// <summary>Nothing left to acknowledge and no acknowledgement unanswered.</summary>
    public bool AcksSettled
    {
        get
        {
            lock (_ackLock)
                if (_toAck.Count > 0) return false;
            return Volatile.Read(ref _acksInFlight) == 0;
        }
    }

    /// <summary>Password login as the provisioned account; retries SERVER_BUSY. Bounded by the window's end, not by
    /// --request-timeout: at ramp time a login may wait behind many password hashes.</summary>
    public Task<bool> LoginAsync() => LoginAsync(_client, _context.Clock.WindowEndTimestamp, catchUp: false);

    /// <summary>The login on <paramref name="client"/> until <paramref name="until"/>. The end-of-run catch-up
    /// (<paramref name="catchUp"/>, on a new connection for a receiver whose connection dropped) is not a login of the
    /// run: it is neither counted nor timed, and its failure is reported by the catch-up.</summary>
    public async Task<bool> LoginAsync(ChatClient client, long until, bool catchUp)
    {
        string username = _context.Options.Prefix + Account.ToString("D6", CultureInfo.InvariantCulture);
        string clientId = "lgc-" + Account.ToString(CultureInfo.InvariantCulture);
        long started = Stopwatch.GetTimestamp();   // the login's latency includes its waits after SERVER_BUSY
        while (true)
        {
            TimeSpan left = TimeSpan.FromSeconds((until - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            string code;
            try
            {
                if (left <= TimeSpan.Zero) throw new TimeoutException();
                Envelope r = await client.RequestAsync(Actions.Login, w =>
                {
                    w.WriteString("username", username);
                    w.WriteString("password", _context.Options.Password);
                    w.WriteString("client_id", clientId);
                }, left, _context.HardStop).ConfigureAwait(false);
                if (r.Success == true && r.Data is { } data && data.TryGetProperty("user_id", out JsonElement id) && id.TryGetUInt32(out uint userId))
                {
                    if (catchUp) return true;
                    UserId = userId;
                    Interlocked.Increment(ref _counters.LoginsOk);
                    RecordAction(Actions.Login, started, null);
                    return true;
                }
                code = r.Code ?? "NO_CODE";
                if (code == ErrorCodes.ServerBusy)
                {
                    await Task.Delay(BusyWait(r), _context.HardStop).ConfigureAwait(false);
                    continue;
                }
            }
            catch (TimeoutException)
            {
                code = HeartbeatScenario.Unanswered;
            }
            catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
            {
                return false;   // counted once, as a drop, by the connection set's watcher
            }
            catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
            {
                code = HeartbeatScenario.Unanswered;
            }
            if (catchUp) return false;
            _context.Stats.Error("LOGIN_" + code);
            RecordAction(Actions.Login, started, code);
            return false;
        }
    }

    private static TimeSpan BusyWait(Envelope response) =>
        BusyWait(response.Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("retry_after_ms", out JsonElement ms)
            && ms.TryGetInt32(out int millis) ? millis : 0);

    /// <summary>The wait before a retry: the server's retry_after_ms when it gave one (above 0), else the default.</summary>
    private static TimeSpan BusyWait(int retryAfterMs)
    {
        TimeSpan wait = retryAfterMs > 0 ? TimeSpan.FromMilliseconds(retryAfterMs) : DefaultBusyWait;
        return wait * (0.5 + Random.Shared.NextDouble());   // retries do not come back in step
    }

    /// <summary>
    /// Sends until the window ends, then waits for its sends still in flight (they get until the deadline). With a
    /// rate, send n is due at a random phase + n / rate; a send that finds all --pipeline slots taken goes when one
    /// frees and the schedule restarts from there (no burst to catch up), so the achieved rate shows in sent/s.
    /// </summary>
    public Task SendLoopAsync() => PacedLoopAsync(static (user, slots) => user.BeginSend(slots));

    /// <summary>The chat pacing around any <paramref name="step"/> (one request each): the mixed scenario's loop too.</summary>
    public Task PacedLoopAsync(Func<Task> step) => PacedLoopAsync((user, slots) => { _ = StepAsync(step, slots); });

    /// <summary>The pacing: <paramref name="start"/> begins one request, which gives its slot back when answered.</summary>
    private async Task PacedLoopAsync(Action<ChatUser, SemaphoreSlim> start)
    {
        RunClock clock = _context.Clock;
        int pipeline = _context.Options.Pipeline;
        // Not disposed: a send still in flight at the hard stop releases its slot later (SemaphoreSlim holds no
        // kernel handle unless asked for one).
        var slots = new SemaphoreSlim(pipeline, pipeline);
        double rate = _context.Options.Rate;
        long interval = rate > 0 ? Math.Max(1, RunClock.ToTicks(1 / rate)) : 0;
        long due = Stopwatch.GetTimestamp() + (long)(interval * Random.Shared.NextDouble());
        try
        {
            while (_client.IsConnected && !clock.WindowOver)
            {
                if (interval > 0) await RunClock.DelayUntil(due, _context.HardStop).ConfigureAwait(false);
                await slots.WaitAsync(_context.HardStop).ConfigureAwait(false);
                if (clock.WindowOver)
                {
                    slots.Release();
                    break;
                }
                if (interval > 0) due = Math.Max(due + interval, Stopwatch.GetTimestamp());
                start(this, slots);
            }
            // Every slot back means every send has its answer (or its error).
            for (int i = 0; i < pipeline; i++) await slots.WaitAsync(_context.HardStop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The deadline: sends still unanswered count themselves.
        }
    }

    private static async Task StepAsync(Func<Task> step, SemaphoreSlim slots)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>One `send_message` to the partner through ChatClient's request path (the mixed scenario's blend; chat
    /// sends as bytes, <see cref="BeginSend"/>); records its outcome (never throws for a failed request).</summary>
    public async Task SendAsync()
    {
        ChatUser partner = Partner!;
        RunClock clock = _context.Clock;
        long seq = ++_seq;   // only the send loop sends
        long sent = Stopwatch.GetTimestamp();
        string content = ChatContent.Build(_runId, clock.UnixMicros(sent), _context.Options.MessageBytes);
        uint receiver = partner.UserId;
        Interlocked.Increment(ref _counters.Sent);
        // Fresh per run and per message: a repeated client_msg_id would be answered with the old message and pushed
        // to nobody, which this scenario would count as a loss. A retry after SERVER_BUSY reuses it, as a real
        // client must: the server did nothing, and the id keeps a retry from ever storing the message twice.
        string clientMsgId = string.Create(CultureInfo.InvariantCulture, $"{_runId}-{seq}");
        try
        {
            Envelope r;
            while (true)
            {
                r = await _client.RequestAsync(Actions.SendMessage, w =>
                {
                    w.WriteNumber("receiver_id", receiver);
                    w.WriteString("content", content);
                    w.WriteString("type", "text");
                    w.WriteString("client_msg_id", clientMsgId);
                }, _context.RequestTimeout, _context.HardStop).ConfigureAwait(false);
                // Latency stays measured from the first attempt: the wait is part of what the user sees.
                if (r.Code != ErrorCodes.ServerBusy || Stopwatch.GetTimestamp() >= clock.WindowEndTimestamp) break;
                Interlocked.Increment(ref _counters.BusyRetries);
                await Task.Delay(BusyWait(r), _context.HardStop).ConfigureAwait(false);
            }
            if (r.Success == true && r.Data is { } data && data.TryGetProperty("message_id", out JsonElement id) && id.TryGetInt64(out long messageId))
                SendSucceeded(partner, messageId, sent);
            else SendError(r.Success == true ? "CLIENT_NO_MESSAGE_ID" : r.Code ?? "NO_CODE");
        }
        catch (TimeoutException)
        {
            SendError("CLIENT_TIMEOUT");
        }
        catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
        {
            // The server closed the connection: the drop is counted by the connection set's watcher.
        }
        catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
        {
            SendError(HeartbeatScenario.Unanswered);
        }

        void SendError(string code) => SendFailed(code, sent);
    }

    /// <summary>A send answered `sent` with <paramref name="messageId"/>: the partner now awaits its push.</summary>
    private void SendSucceeded(ChatUser partner, long messageId, long sent)
    {
        long received = Stopwatch.GetTimestamp();
        RunClock clock = _context.Clock;
        bool inWindow = clock.InWindow(sent);   // the window's by when it was sent, not when answered
        partner.Inbound.Sent(messageId);
        Interlocked.Increment(ref _counters.SentOk);
        if (inWindow) Interlocked.Increment(ref _counters.SentOkWindow);
        long micros = (received - sent) * 1_000_000 / Stopwatch.Frequency;
        _context.Stats.RoundTrip(micros, inWindow, sent);
        (_sendCounter ??= _context.Actions.For(Actions.SendMessage)).Record(micros, null, inWindow);
    }

    private void SendFailed(string code, long sent)
    {
        Interlocked.Increment(ref _counters.SendErrors);
        _context.Stats.Error(code);
        RecordAction(Actions.SendMessage, sent, code);
    }

    /// <summary>Into the per-action figures: latency from <paramref name="started"/> to now; null error = OK. In the
    /// window's figures when it was started inside the window.</summary>
    public void RecordAction(string action, long started, string? error)
    {
        long now = Stopwatch.GetTimestamp();
        _context.Actions.Record(action, (now - started) * 1_000_000 / Stopwatch.Frequency, error, _context.Clock.InWindow(started));
    }

    private void QueueAck(long id)
    {
        bool now = false;
        lock (_ackLock)
        {
            _toAck.Add(id);
            if (_toAck.Count >= AckTicker.FlushAt) now = true;
            else if (!_queued) _queued = true;
            else return;
        }
        if (now) Flush();
        else _ticker.Enqueue(this);
    }

    /// <summary>The ticker's turn: acknowledge what has arrived since the last one.</summary>
    public void FlushFromTick()
    {
        lock (_ackLock) _queued = false;
        Flush();
    }
}
