using System.Diagnostics;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.LoadGen.Scenarios;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>The pure parts of the chat scenario: the timestamp in the content, delivery accounting, merged results.</summary>
public sealed class ChatAccountingTests
{
    private const long Run = 1_764_000_000_123;

    [Theory]
    [InlineData(40)]
    [InlineData(100)]
    [InlineData(4000)]
    public void Content_has_the_asked_length_and_gives_back_run_and_send_time(int bytes)
    {
        long sent = 1_764_000_012_345_678;
        string content = ChatContent.Build(Run, sent, bytes);
        Assert.Equal(bytes, content.Length);
        Assert.All(content, c => Assert.True(c < 128));   // ASCII: bytes = characters
        Assert.True(ChatContent.TryParse(content, out long run, out long micros));
        Assert.Equal((Run, sent), (run, micros));
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("")]
    [InlineData("lg:")]
    [InlineData("lg:123")]
    [InlineData("lg:123:")]
    [InlineData("lg:abc:456:xx")]
    [InlineData("lg:123:-456:xx")]
    [InlineData("LG:123:456:")]
    public void Content_not_written_by_the_scenario_is_not_parsed(string content) =>
        Assert.False(ChatContent.TryParse(content, out _, out _));

    [Fact]
    public void Delivery_latency_comes_from_the_run_clock_in_microseconds()
    {
        var clock = new RunClock(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, 10);
        long t0 = Stopwatch.GetTimestamp();
        long t1 = t0 + Stopwatch.Frequency / 500;   // 2 ms later
        Assert.Equal(2000, clock.UnixMicros(t1) - clock.UnixMicros(t0), 1.0);
        // Anchored at the run's start: the start timestamp is the start time, in microseconds.
        Assert.Equal(clock.StartUnixMs * 1000, clock.UnixMicros(clock.StartTimestamp));
        string content = ChatContent.Build(Run, clock.UnixMicros(t0), 100);
        Assert.True(ChatContent.TryParse(content, out _, out long sent));
        Assert.Equal(2000, clock.UnixMicros(t1) - sent, 1.0);
    }

    [Fact]
    public void A_message_sent_and_pushed_is_delivered_in_either_order()
    {
        var ledger = new DeliveryLedger();
        ledger.Sent(10);
        Assert.Equal(1, ledger.Awaiting);
        Assert.True(ledger.Arrived(10));
        // The push can beat the sender's `sent` answer (the server pushes once the batch is stored).
        Assert.True(ledger.Arrived(11));
        Assert.Equal(1, ledger.Unconfirmed);
        ledger.Sent(11);
        Assert.Equal((0, 0, 2L, 0L), (ledger.Awaiting, ledger.Unconfirmed, ledger.Delivered, ledger.Duplicates));
    }

    [Fact]
    public void Duplicates_and_losses_are_counted_exactly()
    {
        var ledger = new DeliveryLedger();
        for (long id = 1; id <= 5; id++) ledger.Sent(id);
        Assert.True(ledger.Arrived(1));
        Assert.True(ledger.Arrived(3));
        Assert.False(ledger.Arrived(3));   // pushed again (e.g. live, then in an offline batch)
        Assert.False(ledger.Arrived(1));
        Assert.True(ledger.Arrived(2));    // after 3: out of order, still delivered
        Assert.Equal(2, ledger.Duplicates);
        Assert.Equal(3, ledger.Delivered);
        Assert.Equal(1, ledger.OutOfOrder);
        Assert.Equal(2, ledger.Awaiting);  // 4 and 5 never came: the losses
    }

    [Fact]
    public void Messages_read_by_the_end_of_run_sync_are_late_not_lost()
    {
        var ledger = new DeliveryLedger();
        for (long id = 1; id <= 6; id++) ledger.Sent(id);
        Assert.True(ledger.Arrived(1));
        Assert.True(ledger.Arrived(3));
        // The sync reads from below the smallest missing id up to the largest.
        Assert.Equal((2L, 6L), (ledger.FirstMissing, ledger.LastMissing));

        ledger.Seal();
        // A push racing the sync counts neither as a delivery nor as a duplicate.
        Assert.False(ledger.Arrived(6));
        Assert.Equal((2L, 0L), (ledger.Delivered, ledger.Duplicates));
        Assert.True(ledger.LateFound(2));
        Assert.True(ledger.LateFound(4));
        Assert.True(ledger.LateFound(6));
        Assert.False(ledger.LateFound(3));    // delivered before: not late
        Assert.False(ledger.LateFound(4));    // read twice (two pages overlap): counted once
        Assert.False(ledger.LateFound(99));   // not this connection's to await (its own send, or another run's)
        Assert.Equal((3L, 1), (ledger.Late, ledger.Awaiting));   // 5: the server returned it to nobody: lost
        Assert.Equal((5L, 5L), (ledger.FirstMissing, ledger.LastMissing));
    }

    [Fact]
    public void Late_messages_are_reported_apart_from_losses_and_cost_success()
    {
        var a = new ChatResult { Pairs = 1, PairsChatting = 1, Sent = 10, SentOk = 10, Delivered = 7, Late = 3, CatchUpUnfinished = 0 };
        var b = new ChatResult { Pairs = 1, PairsChatting = 1, Sent = 10, SentOk = 10, Delivered = 9, Late = 0, Lost = 1, CatchUpUnfinished = 1 };
        ChatResult merged = ChatResult.Merge([a, b]);
        Assert.Equal((3L, 1L, 1L), (merged.Late, merged.Lost, merged.CatchUpUnfinished));

        var result = new RunResult
        {
            Scenario = "chat", Connections = 2, DurationS = 2, Opened = 2, RoundTrips = 10,
            Chat = new ChatResult { Pairs = 1, PairsChatting = 1, Sent = 10, SentOk = 10, Delivered = 7, Late = 3 },
        };
        ResultBuilder.Finish(result);
        Assert.DoesNotContain("never delivered", result.Verdict, StringComparison.Ordinal);
        Assert.Contains(result.Chat!.Problems(), p => p.Contains("3 messages late", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Chat!.Problems(includeAvailability: false), p => p.Contains("late", StringComparison.Ordinal));
        Assert.Equal(2 + 10 - 3, result.Success!.Ok);   // connections and answers, less the late: a late message is not a success
        Assert.Contains("late (not pushed by the end, read by sync) | 3", Report.Markdown(result), StringComparison.Ordinal);
        Assert.Contains("\"late\": 3", System.Text.Json.JsonSerializer.Serialize(result, LoadGenJsonContext.Indented.RunResult), StringComparison.Ordinal);

        var unfinished = new ChatResult { Pairs = 1, PairsChatting = 1, SentOk = 1, CatchUpUnfinished = 2 };
        Assert.Contains(unfinished.Problems(), p => p.Contains("2 receivers could not finish the end-of-run sync", StringComparison.Ordinal));
    }

    [Fact]
    public void Concurrent_senders_and_receiver_leave_nothing_behind()
    {
        var ledger = new DeliveryLedger();
        const int n = 20_000;
        Parallel.Invoke(
            () => { for (long id = 1; id <= n; id++) ledger.Sent(id); },
            () => { for (long id = 1; id <= n; id++) ledger.Arrived(id); });
        Assert.Equal((0, 0, (long)n, 0L), (ledger.Awaiting, ledger.Unconfirmed, ledger.Delivered, ledger.Duplicates));
    }

    [Fact]
    public void Worker_results_merge_and_judge_losses_duplicates_and_idle_pairs()
    {
        var a = new ChatResult { Pairs = 2, PairsChatting = 2, Sent = 10, SentOk = 10, SentOkWindow = 8, Delivered = 10, DeliveredWindow = 8, AckedIdsWindow = 6 };
        var b = new ChatResult { Pairs = 3, PairsChatting = 3, Sent = 20, SentOk = 19, SentOkWindow = 12, Delivered = 19, DeliveredWindow = 12, AckedIdsWindow = 14, Lost = 1, Duplicates = 2 };
        var histogram = RunStats.NewHistogram();
        histogram.RecordValue(1500);
        a.DeliveryHistogramPairs = HistogramCodec.ToPairs(histogram);
        b.DeliveryHistogramPairs = HistogramCodec.ToPairs(histogram);

        ChatResult merged = ChatResult.Merge([a, b]);
        merged.Finish(durationS: 4, sendLatency: null);
        Assert.Equal((5, 5L, 30L, 29L, 1L, 2L), (merged.Pairs, merged.PairsChatting, merged.Sent, merged.SentOk, merged.Lost, merged.Duplicates));
        Assert.Equal((5.0, 5.0, 5.0), (merged.SentPerS, merged.DeliveredPerS, merged.AckedPerS));
        Assert.Equal(2, merged.DeliveryLatencyUs!.Count);
        Assert.Null(merged.DeliveryHistogramPairs);
        string[] problems = [.. merged.Problems()];
        Assert.Contains(problems, p => p.Contains("1 messages answered `sent` were never delivered", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("2 messages delivered twice", StringComparison.Ordinal));

        Assert.Empty(a.Problems());
        Assert.Contains(new ChatResult { Pairs = 2, PairsChatting = 1, SentOk = 1 }.Problems(), p => p.Contains("never started", StringComparison.Ordinal));
        Assert.Contains(new ChatResult { Pairs = 1, PairsChatting = 1, SentOk = 1, InboxDropped = 3 }.Problems(), p => p.Contains("inbox", StringComparison.Ordinal));
    }

    [Fact]
    public void A_chat_run_with_a_loss_fails_even_without_error_responses()
    {
        var result = new RunResult
        {
            Scenario = "chat", Connections = 4, DurationS = 2, Opened = 4,
            Chat = new ChatResult { Pairs = 2, PairsChatting = 2, Sent = 4, SentOk = 4, Delivered = 3, Lost = 1 },
        };
        ResultBuilder.Finish(result);
        Assert.False(result.Passed);
        Assert.Contains("never delivered", result.Verdict, StringComparison.Ordinal);

        var clean = new RunResult
        {
            Scenario = "chat", Connections = 4, DurationS = 2, Opened = 4,
            Chat = new ChatResult { Pairs = 2, PairsChatting = 2, Sent = 4, SentOk = 4, Delivered = 4 },
        };
        ResultBuilder.Finish(clean);
        Assert.True(clean.Passed, clean.Verdict);
        Assert.Contains("lost / duplicates | 0 / 0", Report.Markdown(clean), StringComparison.Ordinal);
    }
}
