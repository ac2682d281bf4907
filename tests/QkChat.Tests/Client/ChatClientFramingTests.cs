using System.Text;
using System.Text.Json;
using QkChat.Protocol;
using Xunit;
using static QkChat.Tests.Client.Waits;

namespace QkChat.Tests.Client;

public sealed class ChatClientFramingTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_response_split_byte_by_byte_is_reassembled()
    {
        await using var pair = await Pair.OpenAsync();
        var response = pair.Client.RequestAsync("heartbeat", ct: Ct);
        JsonElement request = await pair.Connection.ReadRequestAsync();

        foreach (byte b in FakeConnection.Frame(FakeConnection.ResponseTo(request, """{"server_time":42}""")))
        {
            await pair.Connection.WriteAsync([b]);
            await Task.Delay(1, Ct);   // gives each byte its own segment, so the client really reads them one by one
        }
        Assert.Equal(42, (await response.Within()).Data!.Value.GetProperty("server_time").GetInt32());
    }

    [Fact(Timeout = 60_000)]
    public async Task Several_frames_in_one_write_are_all_delivered()
    {
        await using var pair = await Pair.OpenAsync();
        var requests = Enumerable.Range(0, 3).Select(_ => pair.Client.RequestAsync("heartbeat")).ToArray();
        var seen = new List<JsonElement>();
        for (int i = 0; i < 3; i++) seen.Add(await pair.Connection.ReadRequestAsync());

        byte[] all = [.. seen.SelectMany(r => FakeConnection.Frame(FakeConnection.ResponseTo(r))),
                      .. FakeConnection.Frame("""{"action":"presence","push":true,"data":{"user_id":100000001}}""")];
        await pair.Connection.WriteAsync(all);

        foreach (var request in requests) Assert.True((await request.Within()).Success);
        var push = await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct);
        Assert.Equal("presence", push.Action);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_frame_larger_than_the_receive_buffer_grows_it_and_later_frames_still_parse()
    {
        await using var pair = await Pair.OpenAsync();
        var big = pair.Client.RequestAsync("get_chat_history", ct: Ct);
        var small = pair.Client.RequestAsync("heartbeat", ct: Ct);
        JsonElement r1 = await pair.Connection.ReadRequestAsync();
        JsonElement r2 = await pair.Connection.ReadRequestAsync();
        string content = new('x', 50_000);   // well past the 4 KiB first buffer, below the 64 KiB maximum

        byte[] bytes = [.. FakeConnection.Frame(FakeConnection.ResponseTo(r1, $$"""{"content":"{{content}}"}""")),
                        .. FakeConnection.Frame(FakeConnection.ResponseTo(r2))];
        // Uneven chunks so that frame boundaries fall inside reads.
        for (int at = 0; at < bytes.Length; at += 7_001)
            await pair.Connection.WriteAsync(bytes[at..Math.Min(bytes.Length, at + 7_001)]);

        Assert.Equal(content, (await big.Within()).Data!.Value.GetProperty("content").GetString());
        Assert.True((await small.Within()).Success);
    }

    [Fact(Timeout = 60_000)]
    public async Task Data_stays_valid_after_the_receive_buffer_is_reused()
    {
        await using var pair = await Pair.OpenAsync();
        _ = pair.Connection.EchoUntilClosedAsync();
        var first = await pair.Client.RequestAsync("echo", w => w.WriteString("n", "first"), ct: Ct);
        for (int i = 0; i < 20; i++) await pair.Client.RequestAsync("echo", w => w.WriteString("n", new string('z', 100)), ct: Ct);
        Assert.Equal("first", first.Data!.Value.GetProperty("n").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task SendFrameAsync_adds_the_header_and_SendRawAsync_sends_bytes_verbatim()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Client.SendFrameAsync("""{"action":"heartbeat"}"""u8.ToArray(), ct: Ct);
        byte[] framed = await pair.Connection.ReadExactlyAsync(4 + 22);
        Assert.Equal(FakeConnection.Frame("""{"action":"heartbeat"}"""), framed);

        byte[] garbage = [0x00, 0x00, 0xFF, 0xFF, (byte)'{', 0x80];
        await pair.Client.SendRawAsync(garbage, ct: Ct);
        Assert.Equal(garbage, await pair.Connection.ReadExactlyAsync(garbage.Length));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_answer_to_a_raw_frame_arrives_in_the_inbox()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Client.SendFrameAsync(Encoding.UTF8.GetBytes("""{"action":"heartbeat","request_id":"mine"}"""), ct: Ct);
        JsonElement request = await pair.Connection.ReadRequestAsync();
        await pair.Connection.SendAsync(FakeConnection.ResponseTo(request));

        var answer = await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct);
        Assert.Equal("mine", answer.RequestId);
    }

    [Fact(Timeout = 60_000)]
    public async Task Request_frames_declare_their_exact_body_length()
    {
        await using var pair = await Pair.OpenAsync();
        _ = pair.Client.RequestAsync("send_message", w => w.WriteString("content", "你好, world"), ct: Ct);
        byte[] header = await pair.Connection.ReadExactlyAsync(Framing.HeaderSize);
        Assert.Equal(FrameStatus.Incomplete, Framing.TryDecode(header, Framing.DefaultMaxFrameBytes, out int length));
        byte[] body = await pair.Connection.ReadExactlyAsync(length);
        using var doc = JsonDocument.Parse(body);   // exactly one object, nothing more, nothing less
        Assert.Equal("你好, world", doc.RootElement.GetProperty("content").GetString());
    }
}
