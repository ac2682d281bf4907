using QkChat.Core.Dispatch;
using QkChat.IntegrationTests.Infrastructure;
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

    [Fact]
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

    [Fact]
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

    /// <summary>A pipelined action answered after a delay given in the request, so later requests can finish first.</summary>
    private static void PipelinedAction(ActionRouter router, Action<int>? onStart = null) =>
        router.Register("piped", true, ctx =>
        {
            var pending = ctx.BeginAsync(pipelined: true);
            int delay = System.Text.Json.JsonDocument.Parse(ctx.Body.ToArray()).RootElement.GetProperty("delay").GetInt32();
            onStart?.Invoke(delay);
            _ = Task.Run(async () =>
            {
                await Task.Delay(delay);
                pending.Complete("OK", "piped done", delay, static (w, n) => w.WriteNumber("delay"u8, n));
            });
        });

    [Fact]
    public async Task Pipelined_requests_run_together_yet_their_answers_keep_request_order()
    {
        int started = 0;
        await using var server = InProcessServer.Start(routes: (router, _) => PipelinedAction(router, _ => Interlocked.Increment(ref started)));
        using var client = await server.ConnectAsync();
        // Decreasing delays: every later request finishes first. A heartbeat in the middle waits its turn too.
        var batch = new List<byte>();
        for (int i = 0; i < 10; i++)
        {
            batch.AddRange(RawClient.Frame($$"""{"action":"piped","request_id":"{{i}}","delay":{{300 - i * 30}}}"""));
            if (i == 4) batch.AddRange(RawClient.Heartbeat("hb"));
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await client.SendAsync(batch.ToArray());
        var order = new List<string>();
        for (int i = 0; i < 11; i++) order.Add((await client.ReadAsync()).Str("request_id")!);
        Assert.Equal(["0", "1", "2", "3", "4", "hb", "5", "6", "7", "8", "9"], order);
        Assert.Equal(10, started);
        // Run together: the whole burst takes about the slowest one, not the 1.65 s of their sum.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Past_the_pipelining_window_input_waits_until_an_answer_goes_out()
    {
        int started = 0;
        await using var server = InProcessServer.Start(routes: (router, _) => PipelinedAction(router, _ => Interlocked.Increment(ref started)));
        using var client = await server.ConnectAsync();
        var batch = new List<byte>();
        batch.AddRange(RawClient.Frame("""{"action":"piped","request_id":"first","delay":500}"""));
        for (int i = 1; i < Dispatcher.MaxPipelined + 5; i++)
            batch.AddRange(RawClient.Frame($$"""{"action":"piped","request_id":"{{i}}","delay":1}"""));
        await client.SendAsync(batch.ToArray());
        await Task.Delay(250, TestContext.Current.CancellationToken);
        Assert.Equal(Dispatcher.MaxPipelined, Volatile.Read(ref started)); // the rest waits behind the window
        for (int i = 0; i < Dispatcher.MaxPipelined + 5; i++) await client.ReadAsync();
        Assert.Equal(Dispatcher.MaxPipelined + 5, Volatile.Read(ref started));
    }
}
