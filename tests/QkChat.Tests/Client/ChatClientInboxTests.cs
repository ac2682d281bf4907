using QkChat.Client;
using Xunit;
using static QkChat.Tests.Client.Waits;

namespace QkChat.Tests.Client;

public sealed class ChatClientInboxTests
{
    [Fact(Timeout = 60_000)]
    public async Task Pushes_go_to_the_inbox_in_arrival_order()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.SendAsync("""{"action":"presence","push":true,"data":{"status":"online"}}""");
        await pair.Connection.SendAsync("""{"action":"message","push":true,"data":{"content":"hi"}}""");

        var first = await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct);
        var second = await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct);
        Assert.Equal(("presence", true), (first.Action!, first.Push));
        Assert.Equal("hi", second.Data!.Value.GetProperty("content").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task WaitForPushAsync_sets_others_aside_and_they_are_read_later_in_order()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.SendAsync("""{"action":"presence","push":true,"data":{"n":1}}""");
        await pair.Connection.SendAsync("""{"action":"friend_request","push":true,"data":{"n":2}}""");
        await pair.Connection.SendAsync("""{"action":"message","push":true,"data":{"n":3}}""");

        var message = await pair.Client.WaitForPushAsync("message", Waits.Short, ct: Ct);
        Assert.Equal(3, message.Data!.Value.GetProperty("n").GetInt32());

        var friendRequest = await pair.Client.WaitForPushAsync("friend_request", Waits.Short, ct: Ct);
        Assert.Equal(2, friendRequest.Data!.Value.GetProperty("n").GetInt32());
        Assert.Equal("presence", (await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct)).Action);
        Assert.False(pair.Client.TryReceiveAny(out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_response_named_like_a_push_is_not_taken_for_one()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.SendAsync("""{"action":"message","request_id":"orphan","success":true,"code":"OK","message":"m"}""");
        await pair.Connection.SendAsync("""{"action":"message","push":true,"data":{}}""");

        var push = await pair.Client.WaitForPushAsync("message", Waits.Short, ct: Ct);
        Assert.True(push.Push);
        Assert.Equal("orphan", (await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct)).RequestId);
    }

    [Fact(Timeout = 60_000)]
    public async Task Waiting_for_nothing_times_out()
    {
        await using var pair = await Pair.OpenAsync();
        await Assert.ThrowsAsync<TimeoutException>(() => pair.Client.ReceiveAnyAsync(TimeSpan.FromMilliseconds(50), ct: Ct));
        await Assert.ThrowsAsync<TimeoutException>(() => pair.Client.WaitForPushAsync("kicked", TimeSpan.FromMilliseconds(50), ct: Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_inbox_drops_the_oldest_and_counts_it()
    {
        await using var pair = await Pair.OpenAsync(new ChatClientOptions { MaxUnsolicited = 2 });
        for (int n = 1; n <= 5; n++)
            await pair.Connection.SendAsync($$$"""{"action":"presence","push":true,"data":{"n":{{{n}}}}}""");
        // A request after the pushes: once it is answered, the read loop has dispatched all five pushes.
        var barrier = pair.Client.RequestAsync("heartbeat", ct: Ct);
        await pair.Connection.SendAsync(FakeConnection.ResponseTo(await pair.Connection.ReadRequestAsync()));
        await barrier.Within();

        Assert.Equal(3, pair.Client.DroppedUnsolicited);
        Assert.Equal(4, (await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct)).Data!.Value.GetProperty("n").GetInt32());
        Assert.Equal(5, (await pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct)).Data!.Value.GetProperty("n").GetInt32());
    }

    [Fact(Timeout = 60_000)]
    public async Task ReadInboxAsync_streams_everything_then_ends_with_the_connection()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.SendAsync("""{"action":"presence","push":true,"data":{"n":1}}""");
        await pair.Connection.SendAsync("""{"action":"message","push":true,"data":{"n":2}}""");
        await pair.Client.WaitForPushAsync("message", Waits.Short, ct: Ct);   // sets "presence" aside
        await pair.Connection.SendAsync("""{"action":"kicked","push":true,"data":{"n":3}}""");
        pair.Connection.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        var seen = new List<string>();
        await foreach (var envelope in pair.Client.ReadInboxAsync(Ct).WithCancellation(Ct)) seen.Add(envelope.Action!);
        Assert.Equal(["presence", "kicked"], seen);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_closed_client_that_never_received_anything_says_so_at_once()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.DisposeAsync();
        await pair.Client.Closed.Within();
        var error = await Assert.ThrowsAsync<ChatConnectionClosedException>(() => pair.Client.ReceiveAnyAsync(TimeSpan.FromSeconds(30), ct: Ct));
        Assert.Equal(ChatCloseReason.ServerClosed, error.Info.Reason);
    }

    [Fact(Timeout = 60_000)]
    public async Task What_arrived_before_a_close_can_still_be_read_after_it()
    {
        await using var pair = await Pair.OpenAsync();
        await pair.Connection.SendAsync("""{"action":"error","push":true,"data":{"code":"SERVER_BUSY","message":"full"}}""");
        pair.Connection.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        await pair.Client.Closed.Within();

        var error = await pair.Client.WaitForPushAsync("error", Waits.Short, ct: Ct);
        Assert.Equal("SERVER_BUSY", error.Data!.Value.GetProperty("code").GetString());
        await Assert.ThrowsAsync<ChatConnectionClosedException>(() => pair.Client.ReceiveAnyAsync(Waits.Short, ct: Ct));
    }
}
