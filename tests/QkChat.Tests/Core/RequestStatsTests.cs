using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;
using QkChat.Protocol;
using QkChat.Server.Admin;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>The request counters and latency buckets of issue 8: what is counted where, and the histogram math.</summary>
public sealed class RequestStatsTests
{
    private static long Ticks(double ms) => (long)Math.Round(ms / 1000 * Stopwatch.Frequency);

    [Fact]
    public void Every_protocol_code_has_its_own_column_and_an_unknown_code_counts_as_OTHER()
    {
        var codes = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.NotEmpty(codes);
        foreach (string code in codes)
        {
            int index = RequestStats.CodeIndex(code);
            Assert.Equal(code, RequestStats.Codes[index]);
            // A copy that is not the interned literal finds the same column.
            Assert.Equal(index, RequestStats.CodeIndex(new string(code.AsSpan())));
        }
        Assert.Equal(codes.Count + 1, RequestStats.Codes.Length);
        Assert.Equal(RequestStats.OtherCode, RequestStats.Codes[RequestStats.CodeIndex("NO_SUCH_CODE")]);
        Assert.Equal([ErrorCodes.ServerBusy, ErrorCodes.Unavailable, ErrorCodes.Internal],
            RequestStats.Codes.Where((_, i) => RequestStats.IsServerError(i)).ToArray());
    }

    [Fact]
    public void A_duration_lands_in_the_first_bucket_whose_bound_it_does_not_exceed()
    {
        Assert.Equal(17, LatencyBuckets.Count);
        Assert.Equal(0, LatencyBuckets.IndexOf(0));
        Assert.Equal(0, LatencyBuckets.IndexOf(Ticks(0.1)));      // le="0.0001" is inclusive
        Assert.Equal(1, LatencyBuckets.IndexOf(Ticks(0.1) + 1));
        Assert.Equal(9, LatencyBuckets.IndexOf(Ticks(100)));      // 0.1 s
        Assert.Equal(10, LatencyBuckets.IndexOf(Ticks(150)));
        Assert.Equal(15, LatencyBuckets.IndexOf(Ticks(10_000)));
        Assert.Equal(16, LatencyBuckets.IndexOf(Ticks(10_001))); // +Inf
        Assert.Equal(16, LatencyBuckets.IndexOf(long.MaxValue));
        Assert.Equal(3, LatencyBuckets.IndexOfSeconds(0.001));
        Assert.Equal(4, LatencyBuckets.IndexOfSeconds(0.0011));
    }

    [Fact]
    public void Quantiles_interpolate_inside_the_bucket_like_histogram_quantile()
    {
        var buckets = new long[LatencyBuckets.Count];
        Assert.True(double.IsNaN(LatencyBuckets.QuantileMs(buckets, 0.5)));

        buckets[1] = 100; // 100 requests in (0.1 ms, 0.25 ms]
        Assert.Equal(0.175, LatencyBuckets.QuantileMs(buckets, 0.5), 6);
        Assert.Equal(0.2485, LatencyBuckets.QuantileMs(buckets, 0.99), 6);

        buckets[1] = 90;  // 90 fast ones, 10 in (50 ms, 100 ms]
        buckets[9] = 10;
        Assert.Equal(0.1 + 0.15 * 50 / 90, LatencyBuckets.QuantileMs(buckets, 0.5), 6);
        Assert.Equal(0.25, LatencyBuckets.QuantileMs(buckets, 0.9), 6);  // rank 90: the top of the fast bucket
        Assert.Equal(95, LatencyBuckets.QuantileMs(buckets, 0.99), 6);   // rank 99: 9 of 10 into (50, 100]

        buckets[16] = 1000; // mostly above 10 s: all that is known is "at least the last bound"
        Assert.Equal(10_000, LatencyBuckets.QuantileMs(buckets, 0.99));
    }

    [Fact]
    public void Reactors_count_apart_and_readers_see_the_sum_by_action_and_code()
    {
        var router = new ActionRouter();
        router.Register("alpha", true, _ => { });
        router.Register("beta", true, _ => { });
        var metrics = new RequestMetrics(router);
        var r0 = metrics.For(0);
        var r1 = metrics.For(1);
        Assert.Same(r0, metrics.For(0));
        Assert.Equal(3, r0.Rows);

        r0.Record(1, ErrorCodes.Ok, Ticks(0.05));
        r1.Record(1, ErrorCodes.Ok, Ticks(0.2));
        r1.Record(1, ErrorCodes.Internal, Ticks(30));
        r0.Record(RequestStats.RejectedRow, ErrorCodes.UnknownAction, Ticks(0.01));
        r0.Record(7, ErrorCodes.Ok, 1); // a row this reactor does not know: ignored, not a crash

        var counts = metrics.Counts();
        Assert.Equal(3, counts.Count);
        Assert.Contains(("alpha", "OK", 2L), counts);
        Assert.Contains(("alpha", "INTERNAL", 1L), counts);
        Assert.Contains(("(rejected)", "UNKNOWN_ACTION", 1L), counts);

        var alpha = metrics.Latencies().Single(l => l.Action == "alpha");
        Assert.Equal(1, alpha.Buckets[0]);
        Assert.Equal(1, alpha.Buckets[1]);
        Assert.Equal(1, alpha.Buckets[8]); // 30 ms: (25 ms, 50 ms]
        Assert.Equal(3, alpha.Buckets.Sum());
        Assert.Equal(0.03025, alpha.SumSeconds, 6);
        Assert.DoesNotContain(metrics.Latencies(), l => l.Action == "beta");

        var codes = new long[RequestStats.Codes.Length];
        var buckets = new long[LatencyBuckets.Count];
        metrics.ReadTotals(codes, buckets);
        Assert.Equal(4, codes.Sum());
        Assert.Equal(4, buckets.Sum());
        Assert.Equal(1, codes[RequestStats.CodeIndex(ErrorCodes.Internal)]);
    }

    [Fact]
    public void The_dispatcher_counts_handled_rejected_and_later_answered_requests_and_nothing_when_metrics_are_off()
    {
        var options = new ChatOptions { RequestsPerSecond = 1_000_000, RequestBurst = 1_000_000 };
        var router = new ActionRouter();
        PendingResponse? pending = null;
        router.Register("later", true, ctx => pending = ctx.BeginAsync());
        var dispatcher = new Dispatcher(options, router, NullLogger.Instance);
        using var memory = new InMemoryConnection(dispatcher);
        memory.Receive(Framing.Encode("""{"action":"heartbeat","request_id":"1"}"""u8));
        memory.Receive(Framing.Encode("""{"action":"no_such_thing","request_id":"2"}"""u8));
        memory.Receive(Framing.Encode("""not json"""u8));
        memory.Receive(Framing.Encode("""{"action":"later","request_id":"3"}"""u8));
        Assert.DoesNotContain(dispatcher.Requests.Counts(), c => c.Action == "later"); // not answered yet
        pending!.Complete(ErrorCodes.Unavailable, "down");
        memory.RunPending();
        memory.RunPending(); // the resume that the answer posted
        memory.DiscardOutput();

        var counts = dispatcher.Requests.Counts();
        Assert.Contains(("heartbeat", "OK", 1L), counts);
        Assert.Contains(("(rejected)", "UNKNOWN_ACTION", 1L), counts);
        Assert.Contains(("(rejected)", "BAD_JSON", 1L), counts);
        Assert.Contains(("later", "UNAVAILABLE", 1L), counts);
        Assert.Equal(4, dispatcher.Requests.Latencies().Sum(l => l.Buckets.Sum()));

        options.MetricsEnabled = false;
        memory.Receive(Framing.Encode("""{"action":"heartbeat","request_id":"4"}"""u8));
        memory.DiscardOutput();
        Assert.Equal(4, dispatcher.Requests.Counts().Sum(c => c.Count));
    }

    [Fact]
    public void A_window_reports_only_its_own_requests_with_the_server_error_rate_and_percentiles()
    {
        var router = new ActionRouter();
        router.Register("alpha", true, _ => { });
        var metrics = new RequestMetrics(router);
        var stats = metrics.For(0);
        for (int i = 0; i < 1000; i++) stats.Record(1, ErrorCodes.Ok, Ticks(0.05)); // before the window starts
        var window = new RequestWindow(metrics);
        Assert.Equal(0, window.Take(1).Requests);

        for (int i = 0; i < 90; i++) stats.Record(1, ErrorCodes.Ok, Ticks(0.2));
        for (int i = 0; i < 5; i++) stats.Record(1, ErrorCodes.InvalidArgument, Ticks(0.2));  // the client's fault
        for (int i = 0; i < 5; i++) stats.Record(1, ErrorCodes.Unavailable, Ticks(80));       // the server's
        var figures = window.Take(2);
        Assert.Equal(100, figures.Requests);
        Assert.Equal(50, figures.PerSecond, 6);
        Assert.Equal(5, figures.ErrorPercent, 6);
        Assert.InRange(figures.P50Ms, 0.1, 0.25);
        Assert.InRange(figures.P99Ms, 50, 100);

        var quiet = window.Take(1);
        Assert.Equal(0, quiet.Requests);
        Assert.True(double.IsNaN(quiet.P99Ms));
    }

    private sealed class SlowWriter(int delayMs) : WriteBehind<string>(100, 10, TimeSpan.Zero, NullLogger.Instance)
    {
        protected override Task WriteAsync(List<string> batch) => Task.Delay(delayMs);

        protected override void Fail(string item, bool backendDown)
        {
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_write_behind_batcher_times_each_commit()
    {
        await using var writer = new SlowWriter(30);
        Assert.True(writer.TryEnqueue("a"));
        await writer.WhenWrittenAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(1, writer.CommitTimes.Count);
        Assert.InRange(writer.CommitTimes.SumSeconds, 0.025, 5);
        Assert.Equal(writer.CommitTimes.SumSeconds, writer.CommitTimes.MaxSeconds, 9);
        var buckets = new long[LatencyBuckets.Count];
        writer.CommitTimes.CopyBuckets(buckets);
        Assert.Equal(0, buckets.Take(7).Sum()); // nothing at or below 10 ms
    }
}
