using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.IntegrationTests.Mail;
using QkChat.Transport;
using Xunit;

namespace QkChat.IntegrationTests.Transport;

public sealed class SlowConsumerAndShutdownTests
{
    /// <summary>A test action that queues <c>n</c> pushes of 16 KB each to the caller: a server pushing to a client.</summary>
    private static void Flood(ActionRouter router) =>
        router.Register("flood", true, ctx =>
        {
            for (int i = 0; i < 64; i++)
            {
                var push = Frames.CreatePush("filler", i, static (w, n) =>
                {
                    w.WriteNumber("n"u8, n);
                    w.WriteString("pad"u8, new string('f', 16_000));
                });
                if (!ctx.Connection.Send(push)) return;
            }
            ctx.Respond("OK", "ok");
        });

    [Fact(Timeout = 60_000)]
    public async Task A_client_that_never_reads_is_closed_as_slow_and_its_queue_stays_bounded()
    {
        const int hardCap = 256 * 1024;
        await using var server = new LoggingServer(
            t => { t.SendQueueLowBytes = 16 * 1024; t.SendQueueHighBytes = 64 * 1024; t.SendQueueHardCapBytes = hardCap; },
            Flood);
        using var bystander = await server.ConnectAsync();
        using var sleeper = await server.ConnectAsync();
        sleeper.Socket.ReceiveBufferSize = 4096; // the kernel may still buffer a few MB on loopback; the cap catches the rest
        for (int i = 0; i < 400 && server.ClosedFor(CloseReason.SlowConsumer) == 0; i++)
        {
            try
            {
                await sleeper.SendJsonAsync("""{"action":"flood"}""");
            }
            catch (System.Net.Sockets.SocketException)
            {
                break; // the server already closed it
            }
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        await server.EventuallyAsync(() => server.ClosedFor(CloseReason.SlowConsumer) == 1, "slow consumer closed");
        Assert.Equal(1, server.Engine.OpenConnections);

        // Memory: the sleeper's send queue filled up to the cap (within one 16 KB push) and never went past it.
        int peak = server.Engine.Reactors.Max(r => Volatile.Read(ref r.Stats.PeakQueuedBytes));
        Assert.InRange(peak, hardCap - 2 * 16_100, hardCap);
        // An operator can tell why the connection went.
        await server.EventuallyAsync(() => server.Log.At(LogLevel.Warning).Any(l => l.Contains("closed as a slow consumer")), "slow consumer logged");

        await bystander.SendAsync(RawClient.Heartbeat("ok"));
        Assert.Equal("ok", (await bystander.ReadAsync()).Str("request_id"));
    }

    /// <summary>
    /// InProcessServer's dispatcher logs nowhere; this one logs into <see cref="Log"/> (the transport itself has no
    /// logger: the dispatcher writes the slow-consumer line when the transport reports the close).
    /// </summary>
    private sealed class LoggingServer : ITransportEvents, IAsyncDisposable
    {
        private readonly ConcurrentQueue<Exception> _faults = new();

        public LoggingServer(Action<TransportOptions> transport, Action<ActionRouter> routes)
        {
            var router = new ActionRouter();
            routes(router);
            var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = 100_000, RequestBurst = 100_000 }, router, Log);
            var options = new TransportOptions { Address = IPAddress.Loopback, Port = 0, Reactors = 2, BusyBody = Frames.BusyBody() };
            transport(options);
            Engine = new TransportEngine(options, dispatcher, this);
            Engine.Start();
        }

        public CapturingLogger Log { get; } = new();

        public TransportEngine Engine { get; }

        public Task<RawClient> ConnectAsync() => RawClient.ConnectAsync(Engine.LocalEndPoint!.Port);

        public long ClosedFor(CloseReason reason) => Engine.Reactors.Sum(r => Volatile.Read(ref r.Stats.ClosedByReason[(int)reason]));

        public async Task EventuallyAsync(Func<bool> condition, string what)
        {
            var deadline = Environment.TickCount64 + 10_000;
            while (!condition())
            {
                if (Environment.TickCount64 > deadline) throw new TimeoutException("not reached: " + what);
                await Task.Delay(10);
            }
        }

        public void Listening(EndPoint endPoint, bool tls) { }
        public void Rejected(IPAddress remote, RejectReason reason) { }
        public void Fault(Connection? connection, Exception exception) => _faults.Enqueue(exception);
        public void AcceptFailed(Exception exception) => _faults.Enqueue(exception);
        public void TlsHandshakeFailed(IPAddress remote, string reason) { }

        public async ValueTask DisposeAsync()
        {
            await Engine.StopAsync(null, TimeSpan.FromSeconds(2));
            Assert.Empty(_faults);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_send_stalled_longer_than_the_slow_consumer_timeout_closes_the_connection()
    {
        // A queue cap far above what is sent: only the stall timeout can close this reader.
        await using var server = InProcessServer.Start(
            t => { t.SendQueueHardCapBytes = 64 * 1024 * 1024; t.SlowConsumerTimeout = TimeSpan.FromSeconds(1); },
            routes: (router, _) => Flood(router));
        using var sleeper = await server.ConnectAsync();
        sleeper.Socket.ReceiveBufferSize = 4096;
        // 8 floods of 1 MB: more than loopback socket buffers hold, so a send stays incomplete.
        for (int i = 0; i < 8; i++) await sleeper.SendJsonAsync("""{"action":"flood"}""");
        await server.EventuallyAsync(() => server.ClosedFor(CloseReason.SlowConsumer) == 1, "stalled send closed", timeoutMs: 15_000);
    }

    [Fact(Timeout = 60_000)]
    public async Task Droppable_pushes_are_dropped_above_the_high_mark_instead_of_closing()
    {
        await using var server = InProcessServer.Start(
            t => { t.SendQueueLowBytes = 4 * 1024; t.SendQueueHighBytes = 8 * 1024; t.SendQueueHardCapBytes = 64 * 1024; },
            routes: (router, _) => router.Register("presence_storm", true, ctx =>
            {
                int queued = 0;
                for (int i = 0; i < 1000; i++)
                    if (ctx.Connection.Send(Frames.CreatePush("presence", i, static (w, n) => w.WriteNumber("user_id"u8, n)), droppable: true))
                        queued++;
                ctx.Respond("OK", "ok", queued, static (w, q) => w.WriteNumber("queued"u8, q));
            }));
        using var client = await server.ConnectAsync();
        await client.SendJsonAsync("""{"action":"presence_storm","request_id":"p"}""");
        JsonElementCounter received = new();
        while (true)
        {
            var frame = await client.ReadAsync();
            if (frame.TryGetProperty("request_id", out _))
            {
                Assert.True(frame.GetProperty("data").GetProperty("queued").GetInt32() < 1000);
                break;
            }
            received.Count++;
        }
        Assert.InRange(received.Count, 1, 999);
        Assert.True(server.Engine.Reactors.Sum(r => r.Stats.DroppedFrames) > 0);
        Assert.Equal(0, server.ClosedFor(CloseReason.SlowConsumer));
    }

    private sealed class JsonElementCounter
    {
        public int Count;
    }

    [Fact(Timeout = 60_000)]
    public async Task Shutdown_tells_every_connection_and_ends_within_its_deadline_even_with_a_stalled_reader()
    {
        // A cap far above what the stalled reader is sent: it must still be open, with frames queued, at shutdown.
        var server = InProcessServer.Start(t => t.SendQueueHardCapBytes = 16 * 1024 * 1024, routes: (router, _) => Flood(router));
        var readers = new List<RawClient>();
        for (int i = 0; i < 5; i++) readers.Add(await server.ConnectAsync());
        using var stalled = await server.ConnectAsync();
        stalled.Socket.ReceiveBufferSize = 4096;
        for (int i = 0; i < 3; i++) await stalled.SendJsonAsync("""{"action":"flood"}""");
        await server.EventuallyAsync(() => server.Engine.OpenConnections == 6, "all open");

        // The stalled reader never reads, so a stop that did not enforce its 2 s deadline would never end: a bounded
        // wait (60 s, far from "never" and generous for a loaded box) proves it instead of a clock bound.
        await server.Engine.StopAsync(server.Dispatcher.CreateShutdownPush(), TimeSpan.FromSeconds(2))
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        foreach (var reader in readers)
        {
            var push = await reader.ReadAsync();
            Assert.Equal("server_shutdown", push.Str("action"));
            Assert.True(push.GetProperty("data").GetProperty("reconnect_after_ms").GetInt32() > 0);
            Assert.True(await reader.ClosedAsync());
            reader.Dispose();
        }
        Assert.Equal(0, server.Engine.OpenConnections);
        Assert.Empty(server.Faults);
    }
}
