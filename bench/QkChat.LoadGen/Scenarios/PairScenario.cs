using System.Diagnostics;
using QkChat.Client;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// What chat and mixed share: connection i logs in as --prefix + i (accounts from `qkchatd provision-users --friends pairs`),
/// and users 2k and 2k+1 are a pair (<see cref="ChatUser"/>): each runs the scenario's loop (<see cref="UserLoopAsync"/>),
/// each acknowledges every message it receives. A pair starts as soon as both halves have logged in (during the ramp, which
/// warms the server); only what happens inside the window is timed and gives the rates. At the window's end the
/// senders stop; then the run waits, until the catch-up's start at most (<see cref="PairCatchUp.From"/>), for every
/// message answered `sent` to a connected receiver to be pushed and acknowledged. Every receiver still missing
/// messages then (its connection dropped or not) reads them with sync_messages (<see cref="PairCatchUp"/>): what the
/// server returns is late, what it does not is lost. Meanwhile the acknowledgements still unanswered get until the
/// deadline, a tail after the grace (<see cref="PairAckWait"/>). Pairs never span processes (<see cref="WorkerShare"/>).
/// </summary>
public abstract class PairScenario : IScenario
{
    /// <summary>How often the end of the run looks whether every delivery and acknowledgement is in.</summary>
    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(20);

    /// <summary>After deliveries settle, time for the last `message_status` pushes to reach the senders (they are
    /// counted, not checked). 1 s: a few hundred times their usual latency, short enough not to drag every run.</summary>
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(1);

    /// <summary>How often the chat requests sent as bytes (ChatUser.Wire.cs) are checked for their timeout. 250 ms: a
    /// fortieth of the default 10 s --request-timeout, and a pass over 10,000 idle connections costs microseconds.</summary>
    private static readonly TimeSpan ExpirySweep = TimeSpan.FromMilliseconds(250);

    private readonly ChatCounters _counters = new();
    private readonly AckTicker _ticker = new();
    private readonly List<Task> _sendLoops = [];
    private ChatUser?[] _users = [];
    private int[] _pairReady = [];
    private ConnectionSet? _connections;
    private ScenarioContext? _context;

    /// <summary>The run this scenario is part of (set when <see cref="RunAsync"/> begins).</summary>
    protected ScenarioContext Context => _context ?? throw new InvalidOperationException("not running");

    /// <summary>What one user does from the moment its pair has logged in until the window ends (then it waits for
    /// its requests in flight).</summary>
    protected abstract Task UserLoopAsync(ChatUser user);

    public bool AllAttempted => _connections?.AllAttempted.IsCompleted ?? false;

    public ChatResult? Chat { get; private set; }

    public async Task RunAsync(ScenarioContext context)
    {
        _context = context;
        RunClock clock = context.Clock;
        int count = context.Share.Connections;
        _users = new ChatUser?[count];
        _pairReady = new int[count / 2];
        using var tickerStop = CancellationTokenSource.CreateLinkedTokenSource(context.HardStop);
        Task ticker = _ticker.RunAsync(tickerStop.Token);
        Task sweep = SweepAsync(context, tickerStop.Token);

        await using (var connections = _connections = new ConnectionSet(context))
        {
            await connections.StartOpeningAsync((client, i) =>
            {
                var user = new ChatUser(context, _counters, _ticker, client, context.Share.First + i);
                Volatile.Write(ref _users[i], user);
                _ = StartAsync(user, i);
            }).ConfigureAwait(false);

            await Waits.UntilAsync(clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
            Task[] loops;
            lock (_sendLoops) loops = [.. _sendLoops];
            long catchUpFrom = PairCatchUp.From(clock);
            await Waits.ForAsync(Task.WhenAll(loops), catchUpFrom, context.HardStop).ConfigureAwait(false);
            await SettleAsync(context, catchUpFrom).ConfigureAwait(false);
            // The sync of what is missing and the wait for the last acks' answers share the time left: one works on
            // receivers that miss messages (a new connection when theirs dropped), the other on live connections.
            var catchUp = new PairCatchUp(context);
            var ackWait = new PairAckWait();
            await Task.WhenAll(catchUp.RunAsync(_users), ackWait.RunAsync(_users, clock.DeadlineTimestamp, context.HardStop))
                .ConfigureAwait(false);
            Chat = Collect(context);
            Chat.CatchUpUnfinished = catchUp.Unfinished;
            Chat.AcksAwaitedAtSettle = ackWait.Outstanding;
            Chat.AcksUnansweredAtEnd = ackWait.Unanswered;
        }
        await tickerStop.CancelAsync().ConfigureAwait(false);
        await ticker.ConfigureAwait(false);
        await sweep.ConfigureAwait(false);
    }

    /// <summary>Times out the users' requests in flight (<see cref="ChatUser.ExpireRequests"/>) until <paramref name="stop"/>.</summary>
    private async Task SweepAsync(ScenarioContext context, CancellationToken stop)
    {
        long timeoutTicks = RunClock.ToTicks(context.RequestTimeout.TotalSeconds);
        using var timer = new PeriodicTimer(ExpirySweep);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = Stopwatch.GetTimestamp();
                foreach (ChatUser? user in _users) user?.ExpireRequests(now, timeoutTicks);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>Receive loop first (pushes may come at login), then the login; the second half of a pair to log in
    /// starts both send loops.</summary>
    private async Task StartAsync(ChatUser user, int local)
    {
        _ = user.ReceiveLoopAsync();
        if (!await user.LoginAsync().ConfigureAwait(false)) return;
        if (Interlocked.Increment(ref _pairReady[local / 2]) < 2) return;
        ChatUser a = Volatile.Read(ref _users[local & ~1])!, b = Volatile.Read(ref _users[local | 1])!;
        a.Partner = b;
        b.Partner = a;
        if (_context!.Options.SendAfterRamp) await Waits.UntilAsync(_context.Clock.RampEndTimestamp, _context.HardStop).ConfigureAwait(false);
        if (_context.Clock.WindowOver) return;
        Interlocked.Increment(ref _counters.PairsChatting);
        lock (_sendLoops)
        {
            _sendLoops.Add(Task.Run(() => UserLoopAsync(a)));
            _sendLoops.Add(Task.Run(() => UserLoopAsync(b)));
        }
    }

    /// <summary>Waits until every `sent` message to a connected receiver has been pushed and every push acknowledged
    /// (until <paramref name="deadline"/> at most), then briefly for the senders' `message_status` pushes.</summary>
    private async Task SettleAsync(ScenarioContext context, long deadline)
    {
        try
        {
            while (Stopwatch.GetTimestamp() < deadline && !Settled())
                await Task.Delay(SettlePoll, context.HardStop).ConfigureAwait(false);
            long statusUntil = Math.Min(deadline, Stopwatch.GetTimestamp() + RunClock.ToTicks(StatusWait.TotalSeconds));
            while (Stopwatch.GetTimestamp() < statusUntil
                   && Interlocked.Read(ref _counters.StatusDelivered) < Interlocked.Read(ref _counters.AckedIds) - Interlocked.Read(ref _counters.Stale))
                await Task.Delay(SettlePoll, context.HardStop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Hard stop: what is missing now is reported as such.
        }
    }

    private bool Settled()
    {
        foreach (ChatUser? user in _users)
        {
            if (user is null) continue;
            if (user.Inbound.Awaiting > 0 && user.Client.IsConnected) return false;
            if (!user.AcksSettled && user.Client.IsConnected) return false;
        }
        return true;
    }

    private ChatResult Collect(ScenarioContext context)
    {
        var result = new ChatResult
        {
            Pairs = context.Share.Connections / 2,
            RatePerUser = context.Options.Rate,
            MessageBytes = context.Options.MessageBytes,
            PairsChatting = Interlocked.Read(ref _counters.PairsChatting),
            LoginsOk = Interlocked.Read(ref _counters.LoginsOk),
            Sent = Interlocked.Read(ref _counters.Sent),
            SentOk = Interlocked.Read(ref _counters.SentOk),
            SendErrors = Interlocked.Read(ref _counters.SendErrors),
            BusyRetries = Interlocked.Read(ref _counters.BusyRetries),
            SentOkWindow = Interlocked.Read(ref _counters.SentOkWindow),
            DeliveredWindow = Interlocked.Read(ref _counters.DeliveredWindow),
            AcksSent = Interlocked.Read(ref _counters.AcksSent),
            AcksOk = Interlocked.Read(ref _counters.AcksOk),
            AckedIds = Interlocked.Read(ref _counters.AckedIds),
            AckedIdsWindow = Interlocked.Read(ref _counters.AckedIdsWindow),
            StatusDelivered = Interlocked.Read(ref _counters.StatusDelivered),
            Stale = Interlocked.Read(ref _counters.Stale),
            OfflinePushed = Interlocked.Read(ref _counters.OfflinePushed),
            OfflineDuplicates = Interlocked.Read(ref _counters.OfflineDuplicates),
            DeliveryHistogramPairs = HistogramCodec.ToPairs(_counters.DeliveryLatency),
        };
        foreach (ChatUser? user in _users)
        {
            if (user is null) continue;
            result.Delivered += user.Inbound.Delivered;
            result.Duplicates += user.Inbound.Duplicates;
            result.OutOfOrder += user.Inbound.OutOfOrder;
            result.Lost += user.Inbound.Awaiting;
            result.Late += user.Inbound.Late;
            result.Unconfirmed += user.Inbound.Unconfirmed;
            result.InboxDropped += user.Client.DroppedUnsolicited;
        }
        return result;
    }
}
