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
}
