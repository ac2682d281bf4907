using QkChat.Core.Dispatch;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

public sealed class GatheredSendTests
{
    private const int SmallPushes = 500;

    // 16 x 1 MB in one gathered send: far more than loopback buffers hold for a client that does not read (the
    // receiver's buffer only grows as the application reads; the sender's stops at net.ipv4.tcp_wmem's 4 MB).
    private const int Fillers = 16;
    private static readonly string Megabyte = new('f', 1_000_000);

    [Fact(Timeout = 60_000)]
    public async Task Frames_queued_while_a_send_is_in_flight_leave_in_far_fewer_sends_than_frames()
    {
        long sendsWhenQueued = -1;
        await using var server = InProcessServer.Start(
            t => { t.Reactors = 1; t.SendQueueHardCapBytes = 64 * 1024 * 1024; },
            routes: (router, _) =>
            {
                router.Register("fill", true, ctx =>
                {
                    for (int i = 0; i < Fillers; i++)
                        ctx.Connection.Send(Frames.CreatePush("filler", i, static (w, _) => w.WriteString("pad"u8, Megabyte)));
                    ctx.Respond("OK", "ok");
                });
                router.Register("burst", true, ctx =>
                {
                    for (int i = 0; i < SmallPushes; i++)
                        ctx.Connection.Send(Frames.CreatePush("tick", i, static (w, n) => w.WriteNumber("n"u8, n)));
                    ctx.Respond("OK", "ok");
                    Volatile.Write(ref sendsWhenQueued, ctx.Connection.Reactor.Stats.Sends);
                });
            });
        using var client = await server.ConnectAsync();
        await client.SendJsonAsync("""{"action":"fill","request_id":"f"}""");
        // The fill is on its way (the first bytes arrived) before the burst is even asked for.
        await server.EventuallyAsync(() => client.Socket.Available > 0, "fill sending");
        await client.SendJsonAsync("""{"action":"burst","request_id":"b"}""");
        await server.EventuallyAsync(() => Volatile.Read(ref sendsWhenQueued) >= 0, "burst queued");
        // No send had completed: the burst queued up behind the fill's send in flight.
        Assert.Equal(0, sendsWhenQueued);

        int frames = 0, ticks = 0;
        long bytes = 0;
        while (true)
        {
            var frame = await client.ReadAsync();
            frames++;
            bytes += 4 + System.Text.Encoding.UTF8.GetByteCount(frame.GetRawText()); // the root's raw text is the body as sent
            if (frame.Str("action") == "tick") Assert.Equal(ticks++, frame.GetProperty("data").GetProperty("n").GetInt32());
            if (frame.TryGetProperty("request_id", out var id) && id.GetString() == "b") break;
        }
        Assert.Equal(SmallPushes, ticks);
        Assert.Equal(Fillers + 1 + SmallPushes + 1, frames);

        var stats = server.Engine.Reactors[0].Stats;
        // Sends are counted when they complete, which the reactor may learn a moment after the client read the bytes.
        await server.EventuallyAsync(() => Volatile.Read(ref stats.BytesOut) == bytes, "every send completed");
        long sends = Volatile.Read(ref stats.Sends);
        // At most 32 frames per gathered send: 1 for the fill and its response, then ceil(501 / 32) = 16 for the burst.
        // One send per frame would be 518.
        Assert.InRange(sends, 2, frames / 16);
        TestContext.Current.SendDiagnosticMessage($"{frames} frames in {sends} sends");
    }
}
