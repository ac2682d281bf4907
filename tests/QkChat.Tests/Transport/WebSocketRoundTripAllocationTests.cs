using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

/// <summary>
/// The WebSocket path's per-message budget below the HTTP listener: a masked heartbeat frame arriving on the transport
/// pipe, read by <see cref="WebSocketPipeStream"/> into the connection (a ReceiveReady post), decoded, dispatched, and its
/// response framed and flushed back into the pipe allocates nothing once pools are warm. The pipes are the kind
/// Kestrel's socket transport hands <c>WebSocketConnectionMiddleware</c>; inline schedulers run their continuations
/// on this thread, and this thread is the reactor (RunPending), so every byte of the round trip is allocated on it
/// and counted. Run alone: OutboundFrame's pool is process-wide (MeasuredAlone says why).
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class WebSocketRoundTripAllocationTests
{
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        useSynchronizationContext: false);

    [Fact]
    public void A_websocket_heartbeat_round_trip_over_the_transport_pipes_allocates_zero_bytes()
    {
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = 1_000_000, RequestBurst = 1_000_000 },
            new ActionRouter(), NullLogger.Instance);
        var engine = new TransportEngine(new TransportOptions { Reactors = 1 }, dispatcher, new NoEvents());
        var reactor = engine.Reactors[0];
        reactor.AdoptCurrentThread();
        var toServer = new Pipe(Inline);
        var toClient = new Pipe(Inline);
        // What TransportEngine.AdoptWebSocket posts, kept at hand to flush it as the reactor's loop does after a drain.
        var connection = new Connection(reactor, new WebSocketPipeStream(toServer.Reader, toClient.Writer), IPAddress.Loopback,
            new WebSocketCodec(TimeSpan.Zero));
        engine.Limiter.TryAcquire(IPAddress.Loopback, out _); // released when the connection closes
        reactor.Post(new ReactorWork(WorkKind.Open, connection));
        reactor.RunPending(); // Open: the connection starts waiting on the pipe
        byte[] frame = MaskedText("""{"action":"heartbeat","request_id":"42"}"""u8);

        long RoundTrips(int count)
        {
            long answered = 0;
            for (int i = 0; i < count; i++)
            {
                toServer.Writer.Write(frame);
                _ = toServer.Writer.FlushAsync(); // completes at once; the inline reader continuation posts ReceiveReady
                reactor.RunPending();
                connection.Flush(); // the response goes out, as after a drain of the reactor's loop
                reactor.DiscardDirty();
                if (!toClient.Reader.TryRead(out var result)) continue;
                answered += result.Buffer.Length;
                toClient.Reader.AdvanceTo(result.Buffer.End);
            }
            return answered;
        }

        long warm = RoundTrips(2000); // pools, the thread's JSON writer, tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        long answered = RoundTrips(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(warm > 0);
        Assert.Equal(warm / 2000 * 10_000, answered); // every heartbeat answered, each the same length
        Assert.Equal(0, allocated);
        toServer.Writer.Complete();
        reactor.RunPending();
    }

    /// <summary>A client text frame (RFC 6455 §5.2: FIN, opcode 1, masked; 7-bit length).</summary>
    private static byte[] MaskedText(ReadOnlySpan<byte> payload)
    {
        byte[] key = [0x37, 0xFA, 0x21, 0x3D];
        var bytes = new byte[6 + payload.Length];
        bytes[0] = 0x81;
        bytes[1] = (byte)(0x80 | payload.Length);
        key.CopyTo(bytes, 2);
        for (int i = 0; i < payload.Length; i++) bytes[6 + i] = (byte)(payload[i] ^ key[i & 3]);
        return bytes;
    }

    private sealed class NoEvents : ITransportEvents
    {
        public void Listening(EndPoint endPoint, bool tls) { }
        public void Rejected(IPAddress remote, RejectReason reason) { }
        public void Fault(Connection? connection, Exception exception) { }
        public void AcceptFailed(Exception exception) { }
        public void TlsHandshakeFailed(IPAddress remote, string reason) { }
    }
}
