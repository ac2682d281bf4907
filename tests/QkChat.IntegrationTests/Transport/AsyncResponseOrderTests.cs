using QkChat.Core.Dispatch;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Transport;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>protocol.md §2: one response per request, in request order, even when a request is served elsewhere.</summary>
public sealed class AsyncResponseOrderTests
{
    /// <summary>Answers after a delay on the thread pool, like a database call would.</summary>
    private static void SlowAction(ActionRouter router, Action? onComplete = null) =>
        router.Register("slow", true, ctx =>
        {
            var pending = ctx.BeginAsync();
            _ = Task.Run(async () =>
            {
                await Task.Delay(200);
                pending.Complete("OK", "slow done", 42, static (w, n) => w.WriteNumber("answer"u8, n));
                onComplete?.Invoke();
            });
        });

    [Fact(Timeout = 60_000)]
    public async Task Requests_behind_a_slow_one_are_answered_after_it_in_order()
    {
        await using var server = InProcessServer.Start(routes: (router, _) => SlowAction(router));
        using var client = await server.ConnectAsync();
        byte[] batch =
        [
            .. RawClient.Heartbeat("1"),
            .. RawClient.Frame("""{"action":"slow","request_id":"2"}"""),
            .. RawClient.Heartbeat("3"),
            .. RawClient.Frame("""{"action":"slow","request_id":"4"}"""),
            .. RawClient.Heartbeat("5"),
        ];
        await client.SendAsync(batch);
        for (int i = 1; i <= 5; i++)
        {
            var response = await client.ReadAsync();
            Assert.Equal(i.ToString(), response.Str("request_id"));
            if (i % 2 == 0) Assert.Equal(42, response.GetProperty("data").GetProperty("answer").GetInt32());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_that_closes_while_its_request_is_pending_is_cleaned_up_without_a_fault()
    {
        var completed = new TaskCompletionSource();
        await using var server = InProcessServer.Start(routes: (router, _) => SlowAction(router, () => completed.TrySetResult()));
        using (var client = await server.ConnectAsync())
        {
            await client.SendAsync(RawClient.Frame("""{"action":"slow","request_id":"x"}"""));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        await completed.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 0, "closed");
        Assert.Empty(server.Faults);
    }

    /// <summary>
    /// A pipelined action answered after a delay given in the request, so later requests can finish first; none
    /// starts its delay before <paramref name="release"/> completes (when given).
    /// </summary>
    private static void PipelinedAction(ActionRouter router, Action<int, Connection>? onStart = null, Task? release = null,
        Action? onComplete = null) =>
        router.Register("piped", true, ctx =>
        {
            var pending = ctx.BeginAsync(pipelined: true);
            int delay = System.Text.Json.JsonDocument.Parse(ctx.Body.ToArray()).RootElement.GetProperty("delay").GetInt32();
            onStart?.Invoke(delay, ctx.Connection);
            _ = Task.Run(async () =>
            {
                // Bounded, so a test that never releases fails by its own timeout instead of leaving work behind.
                if (release is not null) await release.WaitAsync(TimeSpan.FromSeconds(60));
                await Task.Delay(delay);
                pending.Complete("OK", "piped done", delay, static (w, n) => w.WriteNumber("delay"u8, n));
                onComplete?.Invoke();
            });
        });

    [Fact(Timeout = 60_000)]
    public async Task Pipelined_requests_run_together_yet_their_answers_keep_request_order()
    {
        const int requests = 10;
        int started = 0;
        // "Run together" without a clock: no request may finish before all ten have started. If the server ran them
        // one after another, the first would wait for the tenth forever and the test would time out (60 s).
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = InProcessServer.Start(routes: (router, _) => PipelinedAction(router,
            (_, _) => { if (Interlocked.Increment(ref started) == requests) allStarted.TrySetResult(); }, allStarted.Task));
        using var client = await server.ConnectAsync();
        // Decreasing delays: every later request finishes first. A heartbeat in the middle waits its turn too.
        var batch = new List<byte>();
        for (int i = 0; i < requests; i++)
        {
            batch.AddRange(RawClient.Frame($$"""{"action":"piped","request_id":"{{i}}","delay":{{300 - i * 30}}}"""));
            if (i == 4) batch.AddRange(RawClient.Heartbeat("hb"));
        }
        await client.SendAsync(batch.ToArray());
        var order = new List<string>();
        for (int i = 0; i < requests + 1; i++) order.Add((await client.ReadAsync()).Str("request_id")!);
        Assert.Equal(["0", "1", "2", "3", "4", "hb", "5", "6", "7", "8", "9"], order);
        Assert.Equal(requests, started);
    }

    [Fact(Timeout = 60_000)]
    public async Task Past_the_pipelining_window_input_waits_until_an_answer_goes_out()
    {
        int started = 0, completed = 0;
        Connection? connection = null;
        // The first request is held until the test lets it go; the rest answer at once but must queue behind it.
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = InProcessServer.Start(routes: (router, dispatcher) =>
        {
            router.Register("held", true, ctx =>
            {
                var pending = ctx.BeginAsync(pipelined: true);
                connection = ctx.Connection;
                Interlocked.Increment(ref started);
                _ = releaseFirst.Task.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(_ => pending.Complete("OK", "held done"),
                    TaskScheduler.Default);
            });
            PipelinedAction(router, (_, _) => Interlocked.Increment(ref started), onComplete: () => Interlocked.Increment(ref completed));
        });
        using var client = await server.ConnectAsync();
        var batch = new List<byte>();
        batch.AddRange(RawClient.Frame("""{"action":"held","request_id":"first"}"""));
        for (int i = 1; i < Dispatcher.MaxPipelined + 5; i++)
            batch.AddRange(RawClient.Frame($$"""{"action":"piped","request_id":"{{i}}","delay":1}"""));
        await client.SendAsync(batch.ToArray());

        // The window fills, and every request in it but the first is answered (into the queue behind the first).
        await server.EventuallyAsync(() => Volatile.Read(ref started) >= Dispatcher.MaxPipelined
            && Volatile.Read(ref completed) == Dispatcher.MaxPipelined - 1, "window filled and answered", 30_000);
        await server.EventuallyAsync(() => server.Dispatcher.Requests.Counts()
            .Where(c => c.Action == "piped").Sum(c => c.Count) == Dispatcher.MaxPipelined - 1, "answers counted on the reactor", 30_000);
        // Marker: a callback posted to the connection's reactor now runs after those answers were handled there, and
        // after any resume they would (wrongly) have posted, which reads the waiting input at once. So if anything
        // behind the window was going to start, it has started by the time the marker runs.
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection!.Post(static (_, state) => ((TaskCompletionSource)state!).TrySetResult(), marker);
        await marker.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(Dispatcher.MaxPipelined, Volatile.Read(ref started)); // the rest waits behind the window

        releaseFirst.TrySetResult();
        Assert.Equal("first", (await client.ReadAsync()).Str("request_id"));
        for (int i = 1; i < Dispatcher.MaxPipelined + 5; i++) Assert.Equal(i.ToString(), (await client.ReadAsync()).Str("request_id"));
        Assert.Equal(Dispatcher.MaxPipelined + 5, Volatile.Read(ref started));
    }
}
