using System.Net;
using System.Net.Sockets;
using System.Text;

namespace QkChat.Tests.Client;

/// <summary>
/// Files over a raw socket on loopback that cuts its answers where a test says, as a dropped link does: every answer is
/// `Connection: close` with the file's full Content-Length, but only the body bytes below offset
/// <see cref="CutAt"/>(n) of the file are sent for the n-th GET (from 1), then FIN (after every byte is written, so the
/// client holds exactly those); a negative cut closes the connection before any answer. The answer is 200 with the
/// whole file or, when <see cref="HonourRange"/> and the request asks `Range: bytes=N-`, 206 from N. (The integration
/// tests' CuttingProxy cuts a real server's connections instead; these unit tests need answers that ignore Range.)
/// </summary>
internal sealed class CuttingHttpServer : IAsyncDisposable
{
    public const string FixedETag = "\"0123abcd\"";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;

    public CuttingHttpServer()
    {
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The file a GET asks for, by its path (without the query).</summary>
    public Func<string, byte[]> Files { get; set; } = _ => [];

    /// <summary>The ETag every answer carries for a file; <see cref="FixedETag"/> unless set.</summary>
    public Func<byte[], string> ETagOf { get; set; } = _ => FixedETag;

    public bool HonourRange { get; set; }

    public Func<int, long> CutAt { get; set; } = _ => long.MaxValue;

    /// <summary>Called with the count of GETs so far and the request's head, as each arrives.</summary>
    public Action<int, string>? OnRequest { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>A header's value in a request head, or null.</summary>
    public static string? Header(string head, string name) =>
        head.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var head = new StringBuilder();
                byte[] buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    int n = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (n == 0) return;
                    head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                string text = head.ToString();
                int request = Interlocked.Increment(ref _requests);
                OnRequest?.Invoke(request, text);
                long cut = CutAt(request);
                if (cut < 0) return;
                byte[] body = Files(text.Split(' ')[1].Split('?')[0]);
                long from = HonourRange && RangeStart(text) is { } start && start < body.Length ? start : 0;
                long end = Math.Clamp(cut, from, body.Length);
                string status = from > 0
                    ? $"206 Partial Content\r\nContent-Range: bytes {from}-{body.Length - 1}/{body.Length}"
                    : "200 OK";
                await socket.SendAsync(Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 {status}\r\nContent-Length: {body.Length - from}\r\nETag: {ETagOf(body)}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"), _stop.Token);
                await socket.SendAsync(body.AsMemory((int)from, (int)(end - from)), _stop.Token);
                socket.Shutdown(SocketShutdown.Send);
                while (await socket.ReceiveAsync(buffer, _stop.Token) > 0) { }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client went away, or the test is over.
            }
        }
    }

    private static long? RangeStart(string head)
    {
        string? range = Header(head, "Range");
        if (range is null || !range.StartsWith("bytes=", StringComparison.Ordinal) || !range.EndsWith('-')) return null;
        return long.Parse(range.AsSpan(6, range.Length - 7), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
