using System.Security.Cryptography;
using QkChat.Client;
using Xunit;

namespace QkChat.Tests.Client;

/// <summary>
/// FileDownloader's count of cuts (issue 21): a cut is forgiven only when the destination got further than it ever was
/// (a high-water mark), so a server that cuts every answer at the same place while ignoring Range (200 with the whole
/// body each time) ends the download with <see cref="DownloadFailedException"/> after MaxResumes cuts instead of
/// looping for ever, while a long download cut several times, each time further along, still completes. The server is
/// <see cref="CuttingHttpServer"/>, which counts the GETs; Backoff is zero.
/// </summary>
public sealed class FileDownloaderCutTests : IAsyncDisposable
{
    /// <summary>
    /// Requests after which a download that has not ended is declared a loop: far above MaxResumes + 1 (the most the
    /// fixed client makes without progress) and far below what a loop reaches in the test's time.
    /// </summary>
    private const int LoopRequests = 200;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Url => _server.BaseUrl + "/f";

    private readonly CuttingHttpServer _server = new();
    private readonly HttpClient _http = new();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Theory(Timeout = 60_000)]
    [InlineData(0)] // a download from the start
    // The destination already holds more than any answer will bring (a partial file from an earlier run): restarting
    // from 0 and getting 50,000 bytes again and again is never progress.
    [InlineData(120_000)]
    public async Task A_server_ignoring_Range_and_cutting_at_the_same_place_ends_the_download_after_MaxResumes_cuts(int heldBytes)
    {
        byte[] body = RandomNumberGenerator.GetBytes(200_000);
        _server.Files = _ => body;
        _server.HonourRange = false;
        _server.CutAt = _ => 50_000;
        var downloader = new FileDownloader(_http) { Backoff = _ => TimeSpan.Zero };
        using var loop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        _server.OnRequest = (n, _) =>
        {
            if (n >= LoopRequests) loop.Cancel();
        };
        using var destination = new MemoryStream();
        destination.Write(body.AsSpan(0, heldBytes));

        var failure = await Record.ExceptionAsync(() =>
            downloader.DownloadAsync(Url, destination, heldBytes > 0 ? CuttingHttpServer.FixedETag : null, loop.Token));

        Assert.False(failure is OperationCanceledException && !Ct.IsCancellationRequested,
            $"the download was still going after {_server.Requests} requests: every cut at 50,000 bytes was taken for progress");
        Assert.IsType<DownloadFailedException>(failure);
        // The first answer, then one per cut resumed: MaxResumes + 1 in all.
        Assert.Equal(downloader.MaxResumes + 1, _server.Requests);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)] // 206 from where the destination stands, each answer cut after 60,000 more bytes
    [InlineData(false)] // 200 with the whole body each time, cut 60,000 bytes further than the last
    public async Task A_download_cut_more_often_than_MaxResumes_but_further_each_time_completes(bool honourRange)
    {
        const int Step = 60_000;
        byte[] body = RandomNumberGenerator.GetBytes(500_000); // nine answers, eight of them cut: more cuts than MaxResumes
        _server.Files = _ => body;
        _server.HonourRange = honourRange;
        _server.CutAt = n => n * Step;
        var downloader = new FileDownloader(_http) { Backoff = _ => TimeSpan.Zero };
        using var destination = new MemoryStream();

        var result = await downloader.DownloadAsync(Url, destination, ct: Ct);

        Assert.Equal(body.Length, result.Length);
        Assert.Equal(CuttingHttpServer.FixedETag, result.ETag);
        Assert.Equal(body, destination.ToArray());
        Assert.Equal(9, _server.Requests);
        Assert.True(_server.Requests > downloader.MaxResumes + 1, "the test must cut more often than MaxResumes");
    }
}
