using System.Text.Json;
using QkChat.Client;
using Xunit;
using static QkChat.Tests.Client.Waits;

namespace QkChat.Tests.Client;

public sealed class ChatClientRequestTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_request_carries_action_request_id_and_fields_and_gets_its_response()
    {
        await using var pair = await Pair.OpenAsync();
        Task<QkChat.Protocol.Envelope> response = pair.Client.RequestAsync("heartbeat", w => w.WriteString("client_id", "dev-1"), ct: Ct);

        JsonElement request = await pair.Connection.ReadRequestAsync();
        Assert.Equal("heartbeat", request.GetProperty("action").GetString());
        Assert.Equal("dev-1", request.GetProperty("client_id").GetString());
        Assert.False(string.IsNullOrEmpty(request.GetProperty("request_id").GetString()));
        await pair.Connection.SendAsync(FakeConnection.ResponseTo(request, """{"server_time":1700000000000}"""));

        var envelope = await response.Within();
        Assert.Equal("heartbeat", envelope.Action);
        Assert.True(envelope.Success);
        Assert.Equal("OK", envelope.Code);
        Assert.Equal(1700000000000, envelope.Data!.Value.GetProperty("server_time").GetInt64());
        Assert.Equal(0, pair.Client.PendingRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task Responses_are_matched_by_request_id_not_by_order()
    {
        await using var pair = await Pair.OpenAsync();
        var first = pair.Client.RequestAsync("a", ct: Ct);
        var second = pair.Client.RequestAsync("b", ct: Ct);
        JsonElement r1 = await pair.Connection.ReadRequestAsync();
        JsonElement r2 = await pair.Connection.ReadRequestAsync();
        Assert.NotEqual(r1.GetProperty("request_id").GetString(), r2.GetProperty("request_id").GetString());

        await pair.Connection.SendAsync(FakeConnection.ResponseTo(r2, """{"which":2}"""));
        await pair.Connection.SendAsync(FakeConnection.ResponseTo(r1, """{"which":1}"""));

        Assert.Equal(1, (await first.Within()).Data!.Value.GetProperty("which").GetInt32());
        Assert.Equal(2, (await second.Within()).Data!.Value.GetProperty("which").GetInt32());
    }

    [Fact(Timeout = 60_000)]
    public async Task Concurrent_requests_from_many_tasks_neither_interleave_nor_cross()
    {
        await using var pair = await Pair.OpenAsync();
        Task echo = pair.Connection.EchoUntilClosedAsync();
        const int Tasks = 32, PerTask = 50;

        var workers = Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < PerTask; i++)
            {
                int n = t * 1000 + i;
                var envelope = await pair.Client.RequestAsync("echo", w => w.WriteNumber("n", n));
                Assert.Equal(n, envelope.Data!.Value.GetProperty("n").GetInt32());
            }
        }));
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(0, pair.Client.PendingRequests);
        Assert.False(pair.Client.TryReceiveAny(out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task Inline_completions_also_match_every_response()
    {
        await using var pair = await Pair.OpenAsync(new ChatClientOptions { InlineCompletions = true });
        Task echo = pair.Connection.EchoUntilClosedAsync();
        var requests = Enumerable.Range(0, 200).Select(async n =>
            (await pair.Client.RequestAsync("echo", w => w.WriteNumber("n", n))).Data!.Value.GetProperty("n").GetInt32());
        Assert.Equal(Enumerable.Range(0, 200), await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_request_without_answer_times_out_and_the_late_answer_goes_to_the_inbox()
    {
        await using var pair = await Pair.OpenAsync();
        var request = pair.Client.RequestAsync("slow", timeout: TimeSpan.FromMilliseconds(100), ct: Ct);
        JsonElement seen = await pair.Connection.ReadRequestAsync();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => request.Within());
        Assert.Contains("slow", error.Message);
        Assert.Equal(0, pair.Client.PendingRequests);

        await pair.Connection.SendAsync(FakeConnection.ResponseTo(seen));
        var late = await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct);
        Assert.Equal(seen.GetProperty("request_id").GetString(), late.RequestId);
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_request_removes_its_waiter()
    {
        await using var pair = await Pair.OpenAsync();
        using var cts = new CancellationTokenSource();
        var request = pair.Client.RequestAsync("slow", ct: cts.Token);
        await pair.Connection.ReadRequestAsync();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.Within());
        Assert.Equal(0, pair.Client.PendingRequests);
    }

    [Fact(Timeout = 60_000)]
    public async Task Error_responses_are_returned_not_thrown()
    {
        await using var pair = await Pair.OpenAsync();
        var response = pair.Client.RequestAsync("send_message", ct: Ct);
        JsonElement request = await pair.Connection.ReadRequestAsync();
        await pair.Connection.SendAsync(FakeConnection.ResponseTo(request, "{}", "UNAUTHENTICATED"));

        var envelope = await response.Within();
        Assert.False(envelope.Success);
        Assert.Equal("UNAUTHENTICATED", envelope.Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task Request_fields_are_validated_before_anything_is_sent()
    {
        await using var pair = await Pair.OpenAsync();
        // A value without a property name inside an object is not JSON: the writer refuses it.
        await Assert.ThrowsAsync<InvalidOperationException>(() => pair.Client.RequestAsync("x", w => w.WriteNumberValue(1), ct: Ct));
        Assert.Equal(0, pair.Client.PendingRequests);

        // The connection is still usable, and the next frame is the first the server sees.
        var ok = pair.Client.RequestAsync("heartbeat", ct: Ct);
        JsonElement request = await pair.Connection.ReadRequestAsync();
        Assert.Equal("heartbeat", request.GetProperty("action").GetString());
        await pair.Connection.SendAsync(FakeConnection.ResponseTo(request));
        Assert.True((await ok.Within()).Success);
    }
}
