using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Tests.Client;

/// <summary>A listener on 127.0.0.1, port chosen by the system, that hands each accepted socket to the test.</summary>
internal sealed class FakeServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public FakeServer() => _listener.Start();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async Task<FakeConnection> AcceptAsync(X509Certificate2? tlsCertificate = null)
    {
        using var timeout = new CancellationTokenSource(FakeConnection.Patience);
        Socket socket = await _listener.AcceptSocketAsync(timeout.Token);
        socket.NoDelay = true;
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (tlsCertificate is not null)
        {
            var ssl = new SslStream(stream);
            await ssl.AuthenticateAsServerAsync(tlsCertificate);
            stream = ssl;
        }
        return new FakeConnection(socket, stream);
    }

    public void Dispose() => _listener.Stop();
}

/// <summary>The server's side of one connection: reads frames, writes whatever bytes a test wants.</summary>
internal sealed class FakeConnection : IAsyncDisposable
{
    /// <summary>Long enough for a loaded CI machine, short enough that a hung test fails in seconds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Stream _stream;

    public FakeConnection(Socket socket, Stream stream)
    {
        Socket = socket;
        _stream = stream;
    }

    public Socket Socket { get; }

    public static byte[] Frame(string json) => Framing.Encode(Encoding.UTF8.GetBytes(json));

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        var bytes = new byte[count];
        using var timeout = new CancellationTokenSource(Patience);
        await _stream.ReadExactlyAsync(bytes, timeout.Token);
        return bytes;
    }

    public async Task<JsonElement> ReadRequestAsync()
    {
        byte[] header = await ReadExactlyAsync(Framing.HeaderSize);
        byte[] body = await ReadExactlyAsync((int)BinaryPrimitives.ReadUInt32BigEndian(header));
        return JsonDocument.Parse(body).RootElement;
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public Task SendAsync(string json) => WriteAsync(Frame(json));

    /// <summary>A response to <paramref name="request"/> as the real server writes it (protocol.md §2).</summary>
    public static string ResponseTo(JsonElement request, string dataJson = "{}", string code = "OK") =>
        $$"""{"action":"{{request.GetProperty("action").GetString()}}","request_id":"{{request.GetProperty("request_id").GetString()}}","success":{{(code == "OK" ? "true" : "false")}},"code":"{{code}}","message":"m","data":{{dataJson}}}""";

    /// <summary>Answers requests until the client goes away, echoing each request's "n" field in data.</summary>
    public async Task EchoUntilClosedAsync()
    {
        try
        {
            while (true)
            {
                JsonElement request = await ReadRequestAsync();
                string n = request.TryGetProperty("n", out JsonElement v) ? v.GetRawText() : "null";
                await SendAsync(ResponseTo(request, $$"""{"n":{{n}}}"""));
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client closed: the echo is over.
        }
    }

    /// <summary>Closes with an RST instead of a FIN: linger on, timeout zero.</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Close();
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();
}
