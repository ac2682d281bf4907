using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using QkChat.Client;
using Xunit;

namespace QkChat.Tests.Client;

/// <summary>
/// FileDownloader's count of cuts (issue 21): a cut is forgiven only when the destination got further than it ever was
/// (a high-water mark), so a server that cuts every answer at the same place while ignoring Range (200 with the whole
/// body each time) ends the download with <see cref="DownloadFailedException"/> after MaxResumes cuts instead of
/// looping for ever, while a long download cut several times, each time further along, still completes. The server is
/// a raw socket on loopback that counts the GETs; Backoff is zero.
/// </summary>
public sealed class FileDownloaderCutTests : IAsyncDisposable
{
    /// <summary>
    /// Requests after which a download that has not ended is declared a loop: far above MaxResumes + 1 (the most the
    /// fixed client makes without progress) and far below what a loop reaches in the test's time.
    /// </summary>
    private const int LoopRequests = 200;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly CuttingServer _server = new();
    private readonly HttpClient _http = new();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_server_ignoring_Range_and_cutting_at_the_same_place_ends_the_download_after_MaxResumes_cuts()
    {
        _server.Body = RandomNumberGenerator.GetBytes(200_000);
        _server.HonourRange = false;
        _server.CutAt = _ => 50_000;
        var downloader = new FileDownloader(_http) { Backoff = _ => TimeSpan.Zero };
        using var loop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        _server.OnRequest = n =>
        {
            if (n >= LoopRequests) loop.Cancel();
        };
        using var destination = new MemoryStream();

        Exception? failure = null;
        try
        {
            await downloader.DownloadAsync(_server.Url, destination, ct: loop.Token);
        }
        catch (Exception e)
        {
            failure = e;
        }

        Assert.False(failure is OperationCanceledException && !Ct.IsCancellationRequested,
            $"the download was still going after {_server.Requests} requests: every cut at 50,000 bytes was taken for progress");
        Assert.IsType<DownloadFailedException>(failure);
        // The first answer, then one per cut resumed: MaxResumes + 1 in all.
        Assert.Equal(downloader.MaxResumes + 1, _server.Requests);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_partial_file_held_from_an_earlier_run_does_not_make_a_Range_ignoring_server_look_like_progress()
    {
        // The destination already holds more than any answer will bring: restarting from 0 and getting 50,000 bytes
        // again and again is never progress.
        _server.Body = RandomNumberGenerator.GetBytes(200_000);
        _server.HonourRange = false;
        _server.CutAt = _ => 50_000;
        var downloader = new FileDownloader(_http) { Backoff = _ => TimeSpan.Zero };
        using var loop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        _server.OnRequest = n =>
        {
            if (n >= LoopRequests) loop.Cancel();
        };
        using var destination = new MemoryStream();
        destination.Write(_server.Body.AsSpan(0, 120_000));

        var failure = await Record.ExceptionAsync(() => downloader.DownloadAsync(_server.Url, destination, CuttingServer.ETag, loop.Token));

        Assert.False(failure is OperationCanceledException && !Ct.IsCancellationRequested, $"still going after {_server.Requests} requests");
        Assert.IsType<DownloadFailedException>(failure);
        Assert.Equal(downloader.MaxResumes + 1, _server.Requests);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)] // 206 from where the destination stands, each answer cut after 60,000 more bytes
    [InlineData(false)] // 200 with the whole body each time, cut 60,000 bytes further than the last
    public async Task A_download_cut_more_often_than_MaxResumes_but_further_each_time_completes(bool honourRange)
    {
        const int Step = 60_000;
        _server.Body = RandomNumberGenerator.GetBytes(500_000); // nine answers, eight of them cut: more cuts than MaxResumes
        _server.HonourRange = honourRange;
        _server.CutAt = n => n * Step;
        var downloader = new FileDownloader(_http) { Backoff = _ => TimeSpan.Zero };
        using var destination = new MemoryStream();

        var result = await downloader.DownloadAsync(_server.Url, destination, ct: Ct);

        Assert.Equal(_server.Body.Length, result.Length);
        Assert.Equal(CuttingServer.ETag, result.ETag);
        Assert.Equal(_server.Body, destination.ToArray());
        Assert.Equal(9, _server.Requests);
        Assert.True(_server.Requests > downloader.MaxResumes + 1, "the test must cut more often than MaxResumes");
    }

    /// <summary>
    /// One file at /f over a raw socket, ETag <see cref="ETag"/>, every answer `Connection: close`. The n-th GET
    /// (from 1) is answered 200 with the whole body or, when <see cref="HonourRange"/> and the request asks
    /// `Range: bytes=N-`, 206 from N; either way with its full Content-Length but only the body bytes below offset
    /// <see cref="CutAt"/>(n) of the file, then FIN (after every byte is written, so the client holds exactly those).
    /// </summary>
    private sealed class CuttingServer : IAsyncDisposable
    {
        public const string ETag = "\"0123abcd\"";

        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _requests;

        public CuttingServer()
        {
            _listener.Start();
            _accepting = Task.Run(AcceptAsync);
        }

        public byte[] Body { get; set; } = [];
        public bool HonourRange { get; set; }
        public Func<int, long> CutAt { get; set; } = _ => long.MaxValue;

        /// <summary>Called with the count of GETs so far, as each arrives.</summary>
        public Action<int>? OnRequest { get; set; }

        public int Requests => Volatile.Read(ref _requests);

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/f";

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
                    int request = Interlocked.Increment(ref _requests);
                    OnRequest?.Invoke(request);
                    long from = HonourRange && RangeStart(head.ToString()) is { } start && start < Body.Length ? start : 0;
                    long end = Math.Clamp(CutAt(request), from, Body.Length);
                    string status = from > 0
                        ? $"206 Partial Content\r\nContent-Range: bytes {from}-{Body.Length - 1}/{Body.Length}"
                        : "200 OK";
                    await socket.SendAsync(Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 {status}\r\nContent-Length: {Body.Length - from}\r\nETag: {ETag}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"), _stop.Token);
                    await socket.SendAsync(Body.AsMemory((int)from, (int)(end - from)), _stop.Token);
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
            string? range = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
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
}
