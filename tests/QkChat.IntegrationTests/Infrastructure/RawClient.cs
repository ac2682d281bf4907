using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// A deliberately low-level client for transport tests: writes exact bytes (split, merged, hostile) and reads
/// frames one by one, so the tests see precisely what crosses the socket.
/// </summary>
internal sealed class RawClient : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly byte[] _header = new byte[4];

    private RawClient(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static async Task<RawClient> ConnectAsync(int port, IPAddress? local = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (local is not null) socket.Bind(new IPEndPoint(local, 0));
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return new RawClient(socket);
    }

    public static byte[] Frame(string json) => QkChat.Protocol.Framing.Encode(Encoding.UTF8.GetBytes(json));

    public static byte[] Heartbeat(string requestId) => Frame($$"""{"action":"heartbeat","request_id":"{{requestId}}"}""");

    public Task SendAsync(byte[] bytes) => _socket.SendAsync(bytes);

    public Task SendJsonAsync(string json) => SendAsync(Frame(json));

    /// <summary>Reads the next frame and parses it; throws on timeout or when the server closed first.</summary>
    public async Task<JsonElement> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        await ReadExactlyAsync(_header, cts.Token);
        int length = BinaryPrimitives.ReadInt32BigEndian(_header);
        var body = new byte[length];
        await ReadExactlyAsync(body, cts.Token);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    /// <summary>True when the server closed the connection (EOF or reset) within the timeout, after any pending frames.</summary>
    public async Task<bool> ClosedAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var sink = new byte[65_536];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(sink, SocketFlags.None, cts.Token);
                if (n == 0) return true;
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, ct);
            if (n == 0) throw new EndOfStreamException($"server closed after {read} of {buffer.Length} bytes");
            read += n;
        }
    }

    public void Dispose() => _socket.Dispose();
}

internal static class JsonAssertions
{
    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static string Code(this JsonElement e) =>
        e.TryGetProperty("push", out _) ? e.GetProperty("data").Str("code") : e.Str("code");
}
