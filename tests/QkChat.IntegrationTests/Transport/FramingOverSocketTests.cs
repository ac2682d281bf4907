using System.Text;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

/// <summary>TCP may split or merge frames anywhere (protocol.md §1); the originals appended chunks twice and stalled on half frames.</summary>
public sealed class FramingOverSocketTests
{
    [Fact(Timeout = 60_000)]
    public async Task Three_frames_split_at_every_byte_position_are_each_answered_once_in_order()
    {
        await using var server = InProcessServer.Start();
        byte[] stream = [.. RawClient.Heartbeat("a"), .. RawClient.Heartbeat("b"), .. RawClient.Heartbeat("c")];
        using var client = await server.ConnectAsync();
        for (int cut = 1; cut < stream.Length; cut++)
        {
            await client.SendAsync(stream[..cut]);
            await Task.Delay(1, TestContext.Current.CancellationToken); // lets the first part arrive as its own segment
            await client.SendAsync(stream[cut..]);
            foreach (string id in new[] { "a", "b", "c" })
                Assert.Equal(id, (await client.ReadAsync()).Str("request_id"));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_frame_sent_one_byte_at_a_time_is_answered()
    {
        await using var server = InProcessServer.Start();
        using var client = await server.ConnectAsync();
        foreach (byte b in RawClient.Heartbeat("slow"))
        {
            await client.SendAsync([b]);
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }
        var response = await client.ReadAsync();
        Assert.Equal("slow", response.Str("request_id"));
        Assert.Equal("OK", response.Str("code"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Five_hundred_frames_in_one_write_get_five_hundred_responses_in_request_order()
    {
        await using var server = InProcessServer.Start();
        using var client = await server.ConnectAsync();
        await client.SendAsync(Enumerable.Range(0, 500).SelectMany(i => RawClient.Heartbeat(i.ToString())).ToArray());
        for (int i = 0; i < 500; i++)
            Assert.Equal(i.ToString(), (await client.ReadAsync()).Str("request_id"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_frame_of_exactly_the_maximum_passes_and_one_byte_more_is_refused()
    {
        await using var server = InProcessServer.Start(t => t.MaxFrameBytes = 4096);
        using var client = await server.ConnectAsync();
        await client.SendAsync(Padded(4096, "max"));
        var ok = await client.ReadAsync();
        Assert.Equal("max", ok.Str("request_id"));
        Assert.Equal("OK", ok.Str("code"));

        await client.SendAsync(Padded(4097, "over"));
        var error = await client.ReadAsync();
        Assert.Equal("error", error.Str("action"));
        Assert.Equal("FRAME_TOO_LARGE", error.Code());
        Assert.True(await client.ClosedAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task Requests_and_responses_larger_than_the_originals_2KB_limit_work()
    {
        await using var server = InProcessServer.Start(routes: (router, dispatcher) =>
            router.Register("big_echo", true, ctx => ctx.Respond("OK", "ok", ctx.Body.Length,
                static (w, n) => w.WriteString("echo"u8, new string('e', n)))));
        using var client = await server.ConnectAsync();
        string pad = new('p', 30_000);
        await client.SendJsonAsync($$"""{"action":"big_echo","request_id":"big","pad":"{{pad}}"}""");
        var response = await client.ReadAsync();
        Assert.Equal("big", response.Str("request_id"));
        Assert.True(response.GetProperty("data").Str("echo").Length > 30_000);
    }

    /// <summary>A heartbeat frame whose body is exactly <paramref name="bodyLength"/> bytes.</summary>
    private static byte[] Padded(int bodyLength, string requestId)
    {
        string head = "{\"action\":\"heartbeat\",\"request_id\":\"" + requestId + "\",\"pad\":\"";
        string body = head + new string('x', bodyLength - head.Length - 2) + "\"}";
        Assert.Equal(bodyLength, Encoding.UTF8.GetByteCount(body));
        return RawClient.Frame(body);
    }
}
