using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

/// <summary>
/// <see cref="WebSocketPipeStream"/> given the upgraded connection's socket (a plain listener's upgrade taken before
/// Kestrel's HTTP layer) sends straight to it instead of into the output pipe: the frames arrive on the client's end
/// of a real loopback socket with their RFC 6455 headers (7-, 16- and 64-bit lengths, control opcodes) and in order,
/// nothing is left in the output pipe, and a heartbeat round trip allocates nothing once warm. Run alone:
/// OutboundFrame's pool is process-wide (MeasuredAlone says why).
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class WebSocketSocketSendTests
{
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        useSynchronizationContext: false);

    [Fact]
    public void A_heartbeat_round_trip_with_direct_socket_sends_allocates_zero_bytes_and_frames_each_answer()
    {
        using var pair = SocketPair.Open();
        var (engine, reactor, connection, toServer, toClient) = Start(pair.Server);
        byte[] frame = MaskedText("""{"action":"heartbeat","request_id":"42"}"""u8);
        var received = new byte[4096];

        int RoundTrips(int count)
        {
            int answered = 0;
            for (int i = 0; i < count; i++)
            {
                toServer.Writer.Write(frame);
                _ = toServer.Writer.FlushAsync(); // the inline reader continuation posts ReceiveReady
                reactor.RunPending();
                connection.Flush(); // small loopback sends complete at once: no SendCompleted to wait for
                reactor.DiscardDirty();
                int n = ReadFrame(pair.Client, received, out byte opcode, out int bodyLength);
                if (opcode == 0x1 && bodyLength > 0 && n > bodyLength) answered++;
            }
            return answered;
        }

        Assert.Equal(2000, RoundTrips(2000)); // pools, the event args, the thread's JSON writer
        long before = GC.GetAllocatedBytesForCurrentThread();
        int answered = RoundTrips(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10_000, answered);
        Assert.Equal(0, allocated);
        Assert.False(toClient.Reader.TryRead(out _)); // nothing went through Kestrel's output pipe
        toServer.Writer.Complete();
        reactor.RunPending();
        GC.KeepAlive(engine);
    }

    [Fact(Timeout = 60_000)] // the client's reads have a 20 s timeout each; this bounds the loop around them too
    public async Task Frames_of_one_flush_arrive_in_order_with_their_headers_whatever_their_length()
    {
        using var pair = SocketPair.Open();
        var (engine, reactor, connection, toServer, toClient) = Start(pair.Server);
        byte[] small = Body(100, 'a'), medium = Body(300, 'b'), large = Body(65_536, 'c');
        // 64 KiB and more rarely fits the loopback socket's buffer at once: the client reads while the send is pending.
        var reading = Task.Run(() =>
        {
            var frames = new List<(byte Opcode, byte[] Body)>();
            var buffer = new byte[70_000];
            for (int i = 0; i < 4; i++)
            {
                int n = ReadFrame(pair.Client, buffer, out byte opcode, out int bodyLength);
                frames.Add((opcode, buffer.AsSpan(n - bodyLength, bodyLength).ToArray()));
            }
            return frames;
        });
        connection.Send(OutboundFrame.Copy(small));
        connection.Send(OutboundFrame.Copy(medium));
        connection.Send(OutboundFrame.Control(FrameKind.Ping, [1, 2, 3]));
        connection.Send(OutboundFrame.Copy(large));
        connection.Flush();
        reactor.DiscardDirty();
        while (!reading.IsCompleted)
        {
            reactor.RunPending(); // SendCompleted of a send the socket took in parts
            await Task.WhenAny(reading, Task.Delay(10, TestContext.Current.CancellationToken));
        }
        var got = await reading;

        Assert.Equal([0x1, 0x1, 0x9, 0x1], got.Select(f => f.Opcode));
        Assert.Equal(small, got[0].Body);
        Assert.Equal(medium, got[1].Body);
        Assert.Equal([1, 2, 3], got[2].Body);
        Assert.Equal(large, got[3].Body);
        Assert.False(toClient.Reader.TryRead(out _));
        toServer.Writer.Complete();
        reactor.RunPending();
        GC.KeepAlive(engine);
    }

    private static (TransportEngine, Reactor, Connection, Pipe ToServer, Pipe ToClient) Start(Socket server)
    {
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = 1_000_000, RequestBurst = 1_000_000 },
            new ActionRouter(), NullLogger.Instance);
        var engine = new TransportEngine(new TransportOptions { Reactors = 1 }, dispatcher, new NoEvents());
        var reactor = engine.Reactors[0];
        reactor.AdoptCurrentThread();
        var toServer = new Pipe(Inline);
        var toClient = new Pipe(Inline);
        var connection = new Connection(reactor, new WebSocketPipeStream(toServer.Reader, toClient.Writer, server), IPAddress.Loopback,
            new WebSocketCodec(TimeSpan.Zero));
        engine.Limiter.TryAcquire(IPAddress.Loopback, out _); // released when the connection closes
        reactor.Post(new ReactorWork(WorkKind.Open, connection));
        reactor.RunPending();
        return (engine, reactor, connection, toServer, toClient);
    }

    /// <summary>Reads one unmasked server frame into <paramref name="into"/>; returns header plus body length.</summary>
    private static int ReadFrame(Socket client, byte[] into, out byte opcode, out int bodyLength)
    {
        ReadExactly(client, into.AsSpan(0, 2));
        // Plain checks rather than Assert.Equal, which allocates a comparer per call inside the measured loop.
        if ((into[0] & 0xF0) != 0x80) throw new InvalidDataException($"first byte {into[0]:x2}: FIN without reserved bits expected");
        if ((into[1] & 0x80) != 0) throw new InvalidDataException("a server frame must not be masked");
        opcode = (byte)(into[0] & 0x0F);
        int header = 2;
        bodyLength = into[1] & 0x7F;
        if (bodyLength == 126)
        {
            ReadExactly(client, into.AsSpan(2, 2));
            bodyLength = BinaryPrimitives.ReadUInt16BigEndian(into.AsSpan(2));
            header = 4;
        }
        else if (bodyLength == 127)
        {
            ReadExactly(client, into.AsSpan(2, 8));
            bodyLength = checked((int)BinaryPrimitives.ReadUInt64BigEndian(into.AsSpan(2)));
            header = 10;
        }
        ReadExactly(client, into.AsSpan(header, bodyLength));
        return header + bodyLength;
    }

    private static void ReadExactly(Socket socket, Span<byte> into)
    {
        while (!into.IsEmpty)
        {
            int n = socket.Receive(into);
            if (n == 0) throw new EndOfStreamException("the server closed the socket mid-frame");
            into = into[n..];
        }
    }

    private static byte[] Body(int length, char fill) => Enumerable.Repeat((byte)fill, length).ToArray();

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

    /// <summary>Two connected loopback sockets: the server's end as Kestrel would hand it over, and a blocking client.</summary>
    private sealed class SocketPair : IDisposable
    {
        public required Socket Server { get; init; }
        public required Socket Client { get; init; }

        public static SocketPair Open()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.Connect(listener.LocalEndPoint!);
            var server = listener.Accept();
            server.NoDelay = true;
            client.ReceiveTimeout = 20_000; // a missing frame fails the test instead of hanging it
            return new SocketPair { Server = server, Client = client };
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
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
