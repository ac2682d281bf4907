using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.LoadGen.Scenarios;
using QkChat.Protocol;
using QkChat.Tests.Client;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>
/// The end of a chat run for acknowledgements (PairAckWait, docs/loadgen.md "chat" step 7): the tail after the grace,
/// an ack answered during the wait counts as answered, and one still unanswered when the wait ends stays the
/// ACK_CLIENT_UNANSWERED_AT_DEADLINE error that fails the run. A real ChatUser acknowledges a push from a scripted
/// server that holds the ack's answer.
/// </summary>
public sealed class PairAckWaitTests
{
    private static double S(long ticks) => ticks / (double)Stopwatch.Frequency;

    [Theory]
    [InlineData(10, 5)]     // the default --request-timeout: an ack sent at the window's end gets its full 10 s
    [InlineData(3, 0)]      // a timeout inside the grace: no tail
    [InlineData(120, 30)]   // capped at the group drain's default
    public void The_tail_is_the_request_timeout_less_the_grace(double requestTimeout, double tail) =>
        Assert.Equal(tail, PairAckWait.TailSeconds(requestTimeout));

    [Fact]
    public void Chat_runs_settle_through_the_grace_then_catch_up_and_wait_for_acks_in_the_tail()
    {
        RunClock clock = RunClock.Of(OptionParser.Parse(["chat", "--password", "pw", "--duration", "30"])!, 0);
        Assert.Equal(5, S(clock.SendsEndTimestamp - clock.WindowEndTimestamp), 3);
        Assert.Equal(5, S(clock.DeadlineTimestamp - clock.SendsEndTimestamp), 3);
        Assert.Equal(clock.SendsEndTimestamp, PairCatchUp.From(clock));
        clock = RunClock.Of(OptionParser.Parse(["mixed", "--password", "pw", "--request-timeout", "25"])!, 0);
        Assert.Equal(20, S(clock.DeadlineTimestamp - clock.SendsEndTimestamp), 3);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_ack_answered_during_the_wait_is_answered_and_no_error()
    {
        await using Harness h = await Harness.StartAsync();
        JsonElement ack = await h.PushAndReadAckAsync(41);

        var wait = new PairAckWait();
        Task waiting = wait.RunAsync([h.User], h.Clock.DeadlineTimestamp + RunClock.ToTicks(60), h.HardStop.Token);
        Assert.Equal(1, wait.Outstanding);   // taken when the wait begins
        await h.Server.SendAsync(FakeConnection.ResponseTo(ack));
        await waiting;

        Assert.Equal((1L, 0L, 1L), (wait.Outstanding, wait.Unanswered, wait.AnsweredInWait));
        Assert.Equal((1L, 1L), (Interlocked.Read(ref h.Counters.AcksOk), Interlocked.Read(ref h.Counters.AckedIds)));
        await h.Client.DisposeAsync();
        Assert.Equal(0, h.Context.Stats.Errors);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_ack_still_unanswered_when_the_wait_ends_fails_the_run_with_its_count()
    {
        await using Harness h = await Harness.StartAsync();
        await h.PushAndReadAckAsync(42);   // never answered

        var wait = new PairAckWait();
        await wait.RunAsync([h.User], Stopwatch.GetTimestamp(), h.HardStop.Token);   // its bound already reached
        Assert.Equal((1L, 1L, 0L), (wait.Outstanding, wait.Unanswered, wait.AnsweredInWait));

        await h.Client.DisposeAsync();   // the run's end closes the connection
        await Until(() => h.Context.Stats.Errors == 1);
        Assert.Equal(1, h.Context.Stats.ErrorsByCode["ACK_" + HeartbeatScenario.Unanswered]);
        Assert.Equal(0, Interlocked.Read(ref h.Counters.AcksOk));

        var result = new RunResult
        {
            Scenario = "chat", DurationS = 1, Errors = h.Context.Stats.ErrorsByCode, ErrorCount = h.Context.Stats.Errors,
            Opened = 1, Chat = new ChatResult { Pairs = 1, PairsChatting = 1, Sent = 1, SentOk = 1, AcksAwaitedAtSettle = wait.Outstanding, AcksUnansweredAtEnd = wait.Unanswered },
        };
        ResultBuilder.Finish(result);
        Assert.False(result.Passed);
        Assert.Equal(1, result.ExitCode);
        // The unanswered ack is the run's only failure, and it is one.
        Assert.Contains("1 error responses or timeouts", result.Verdict, StringComparison.Ordinal);
    }

    private static async Task Until(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition()) await Task.Delay(10, patience.Token);
    }

    /// <summary>One chat user on a real client, its ack ticker running, against a scripted server.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private readonly FakeServer _fake;
        private readonly CancellationTokenSource _tickerStop = new();
        private Task _ticker = Task.CompletedTask;

        private Harness(FakeServer fake) => _fake = fake;

        public CancellationTokenSource HardStop { get; } = new(TimeSpan.FromSeconds(50));
        public ScenarioContext Context { get; private set; } = null!;
        public RunClock Clock => Context.Clock;
        public ChatCounters Counters { get; } = new();
        public ChatClient Client { get; private set; } = null!;
        public FakeConnection Server { get; private set; } = null!;
        public ChatUser User { get; private set; } = null!;

        public static async Task<Harness> StartAsync()
        {
            var h = new Harness(new FakeServer());
            LoadGenOptions options = OptionParser.Parse(["chat", "--port", h._fake.Port.ToString(CultureInfo.InvariantCulture),
                "--connections", "2", "--password", "pw", "--ramp-up", "0", "--duration", "1", "--quiet"])!;
            h.Context = new ScenarioContext(options, WorkerShare.For(options, 0, 1),
                RunClock.Of(options, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), h.HardStop.Token);
            Task<FakeConnection> accepted = h._fake.AcceptAsync();
            h.Client = await h.Context.ConnectAsync(h.Context.EndpointFor(0), h.Context.ClientOptionsFor(0), h.HardStop.Token);
            h.Server = await accepted;
            var ticker = new AckTicker();
            h._ticker = ticker.RunAsync(h._tickerStop.Token);
            h.User = new ChatUser(h.Context, h.Counters, ticker, h.Client, 0);
            _ = h.User.ReceiveLoopAsync();
            return h;
        }

        /// <summary>Pushes message <paramref name="id"/> and reads the message_ack the user sends for it.</summary>
        public async Task<JsonElement> PushAndReadAckAsync(long id)
        {
            await Server.SendAsync($$$"""{"action":"message","push":true,"data":{"message_id":{{{id}}},"sender_id":5,"receiver_id":7,"content":"hello","type":"text","timestamp":1,"status":"sent","recalled":false}}""");
            JsonElement ack = await Server.ReadRequestAsync();
            Assert.Equal(Actions.MessageAck, ack.GetProperty("action").GetString());
            Assert.Equal(id, ack.GetProperty("message_ids")[0].GetInt64());
            return ack;
        }

        public async ValueTask DisposeAsync()
        {
            await _tickerStop.CancelAsync();
            await _ticker;
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            _fake.Dispose();
            _tickerStop.Dispose();
            HardStop.Dispose();
        }
    }
}
