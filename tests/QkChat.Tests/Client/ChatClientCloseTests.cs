using System.Buffers.Binary;
using QkChat.Client;
using Xunit;
using static QkChat.Tests.Client.Waits;

namespace QkChat.Tests.Client;

public sealed class ChatClientCloseTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_server_close_completes_Closed_and_fails_pending_requests()
    {
        await using var pair = await Pair.OpenAsync();
        var pending = pair.Client.RequestAsync("heartbeat", timeout: Timeout.InfiniteTimeSpan, ct: Ct);
        await pair.Connection.ReadRequestAsync();
        await pair.Connection.DisposeAsync();

        var info = await pair.Client.Closed.Within();
        Assert.Equal(ChatCloseReason.ServerClosed, info.Reason);
        Assert.False(pair.Client.IsConnected);
        var error = await Assert.ThrowsAsync<ChatConnectionClosedException>(() => pending.Within());
        Assert.Equal(ChatCloseReason.ServerClosed, error.Info.Reason);
        await Assert.ThrowsAsync<ChatConnectionClosedException>(() => pair.Client.RequestAsync("heartbeat", ct: Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_reset_is_reported_as_a_reset()
    {
        await using var pair = await Pair.OpenAsync();
        pair.Connection.Reset();
        var info = await pair.Client.Closed.Within();
        Assert.Equal(ChatCloseReason.Reset, info.Reason);
        Assert.Contains("ConnectionReset", info.Detail);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(70_000u)]   // above the 65,536-byte default maximum
    [InlineData(0u)]        // protocol.md §1: length 0 is never valid
    public async Task A_bad_frame_length_from_the_server_closes_the_client_without_waiting_for_a_body(uint declared)
    {
        await using var pair = await Pair.OpenAsync();
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, declared);
        await pair.Connection.WriteAsync(header);

        var info = await pair.Client.Closed.Within();
        Assert.Equal(ChatCloseReason.ProtocolError, info.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_frame_limit_is_an_option()
    {
        await using var pair = await Pair.OpenAsync(new ChatClientOptions { MaxFrameBytes = 100 });
        await pair.Connection.SendAsync($$$"""{"action":"message","push":true,"data":{"c":"{{{new string('x', 200)}}}"}}""");
        Assert.Equal(ChatCloseReason.ProtocolError, (await pair.Client.Closed.Within()).Reason);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    public async Task A_body_that_is_not_an_envelope_closes_the_client(string body)
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.WriteAsync(FakeConnection.Frame(body));
        Assert.Equal(ChatCloseReason.ProtocolError, (await pair.Client.Closed.Within()).Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_closes_locally_and_fails_pending_requests()
    {
        var pair = await Pair.OpenAsync();
        var pending = pair.Client.RequestAsync("heartbeat", timeout: Timeout.InfiniteTimeSpan, ct: Ct);
        await pair.Connection.ReadRequestAsync();
        await pair.Client.DisposeAsync().AsTask().Within();

        Assert.Equal(ChatCloseReason.LocalClose, (await pair.Client.Closed.Within()).Reason);
        await Assert.ThrowsAsync<ChatConnectionClosedException>(() => pending.Within());
        // The server sees the end of the stream.
        await Assert.ThrowsAsync<EndOfStreamException>(() => pair.Connection.ReadExactlyAsync(1));
        await pair.DisposeAsync();   // disposing twice is harmless
    }
}
