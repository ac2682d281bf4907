using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using QkChat.Cli;
using QkChat.Client;
using QkChat.Tests.Client;
using Xunit;

namespace QkChat.Tests.Cli;

/// <summary>
/// /get-file resumes a download cut in an earlier run of qkchat (issue 21): the partial file NAME.part keeps its ETag
/// beside it (NAME.part.etag) from the first response on, the next run asks `Range: bytes=N-` with `If-Range: ETAG`,
/// and when the server's ETag is another (another file saved under the same name) the server's whole answer replaces
/// the partial bytes. Each run is its own Session (a new qkchat process would be the same), against the fake chat
/// server for get_file_url and a loopback HTTP server that serves the bytes with ASP.NET Core's range processing, as
/// qkchatd does.
/// </summary>
public sealed class GetFileResumeTests : IAsyncDisposable
{
    private readonly FakeServer _chat = new();
    private readonly FileHttp _http;
    private readonly string _dir = Directory.CreateTempSubdirectory("qkchat-get-file-").FullName;

    public GetFileResumeTests() => _http = FileHttp.Start();

    public async ValueTask DisposeAsync()
    {
        await _http.DisposeAsync();
        _chat.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 240_000)] // two qkchat runs, the first through six cut attempts, on a loaded 2-core box
    public async Task A_download_cut_in_one_run_resumes_in_the_next_with_If_Range()
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(300_000);
        _http.Files[5] = bytes;
        string target = Path.Combine(_dir, "photo.bin");

        // Run 1: the answer is cut after 100,000 bytes and the resumes find the server gone: the client gives up,
        // keeping the part and its ETag.
        _http.Cut(100_000);
        var (code, output) = await RunAsync($"/get-file 5 \"{target}\"");
        Assert.Equal(1, code);
        Assert.Contains("download failed", output);
        Assert.Equal(bytes.AsSpan(0, 100_000).ToArray(), await File.ReadAllBytesAsync(target + ".part", Ct));
        Assert.Equal(FileHttp.ETag(bytes), (await File.ReadAllTextAsync(target + ".part.etag", Ct)).Trim());

        // Run 2: the server answers whole; the client asks only for the rest, guarded by the kept ETag.
        _http.CutAfter = -1;
        _http.Requests.Clear();
        (code, output) = await RunAsync($"/get-file 5 \"{target}\"");
        Assert.True(code == 0, output);
        Assert.Contains("resuming at 97.7 KiB", output);
        var get = Assert.Single(_http.Requests);
        Assert.Equal(("bytes=100000-", FileHttp.ETag(bytes)), (get.Range, get.IfRange));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(target, Ct));
        Assert.False(File.Exists(target + ".part"));
        Assert.False(File.Exists(target + ".part.etag"));
    }

    [Fact(Timeout = 240_000)] // two qkchat runs, the first through six cut attempts, on a loaded 2-core box
    public async Task A_partial_file_of_other_content_is_replaced_when_the_server_ETag_differs()
    {
        byte[] first = RandomNumberGenerator.GetBytes(200_000), second = RandomNumberGenerator.GetBytes(150_000);
        _http.Files[5] = first;
        _http.Files[6] = second;
        string target = Path.Combine(_dir, "report.bin");

        _http.Cut(50_000);
        var (code, _) = await RunAsync($"/get-file 5 \"{target}\"");
        Assert.Equal(1, code);
        Assert.Equal(50_000, new FileInfo(target + ".part").Length);

        // Another file under the same name: If-Range does not match, the server sends it whole, and it is saved whole
        // at the first attempt (not 50,000 bytes of the first file followed by the rest of the second).
        _http.CutAfter = -1;
        _http.Requests.Clear();
        string output;
        (code, output) = await RunAsync($"/get-file 6 \"{target}\"");
        Assert.True(code == 0, output);
        var get = Assert.Single(_http.Requests);
        Assert.Equal(FileHttp.ETag(first), get.IfRange);
        Assert.Equal(second, await File.ReadAllBytesAsync(target, Ct));
        Assert.False(File.Exists(target + ".part.etag"));
    }

    [Fact(Timeout = 240_000)] // one qkchat run on a loaded 2-core box
    public async Task A_partial_file_without_an_ETag_is_not_trusted()
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(120_000);
        _http.Files[7] = bytes;
        string target = Path.Combine(_dir, "old.bin");
        // A part left by a client that kept no ETag: nothing says whose bytes these are, so the download starts over.
        await File.WriteAllBytesAsync(target + ".part", RandomNumberGenerator.GetBytes(40_000), Ct);

        var (code, output) = await RunAsync($"/get-file 7 \"{target}\"");
        Assert.True(code == 0, output);
        var get = Assert.Single(_http.Requests);
        Assert.Equal((null, null), (get.Range, get.IfRange));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(target, Ct));
    }

    /// <summary>One qkchat run: the commands, then the end of input; the fake chat server answers get_file_url.</summary>
    private async Task<(int Code, string Output)> RunAsync(string command)
    {
        var output = new CapturedOutput();
        var input = new ScriptedInput();
        var settings = new SessionSettings("127.0.0.1", _chat.Port, new ChatClientOptions(), "cli-testhost")
        {
            Clock = new FixedClock(),
            TransferBackoff = _ => TimeSpan.Zero,
        };
        await using var session = new Session(settings, input, new LineOutput(output, redrawPrompt: false));
        var accepted = _chat.AcceptAsync();
        input.Type(command);
        input.End();
        var run = session.RunAsync(Ct);
        await using var connection = await accepted;
        var answering = AnswerAsync(connection);
        int code = await run.WaitAsync(TimeSpan.FromSeconds(100), Ct);
        return (code, output.Text);

        async Task AnswerAsync(FakeConnection server)
        {
            try
            {
                while (true)
                {
                    JsonElement request = await server.ReadRequestAsync();
                    string data = request.GetProperty("action").GetString() switch
                    {
                        "get_file_url" => $$"""{"url":"{{_http.Url(request.GetProperty("file_id").GetInt64())}}","expires_at":{{FixedClock.NowMs + 600_000}}}""",
                        _ => "{}",
                    };
                    await server.SendAsync(FakeConnection.ResponseTo(request, data));
                }
            }
            catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException or InvalidOperationException)
            {
                // The session closed the connection.
            }
        }
    }

    /// <summary>
    /// Files by id at /files/d/ID with ETag "sha256" and ASP.NET Core's range processing; every GET's Range and If-Range
    /// recorded. While <see cref="CutAfter"/> is set, URLs point at a <see cref="CuttingHttpServer"/> instead, which
    /// answers the first GET 200 with the whole Content-Length but only that many body bytes, and closes every later
    /// one before any answer.
    /// </summary>
    private sealed class FileHttp : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly CuttingHttpServer _cutter = new();
        private string _base = "";

        private FileHttp(WebApplication app)
        {
            _app = app;
            _cutter.Files = path => Files[long.Parse(path.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture)];
            _cutter.ETagOf = ETag;
            _cutter.CutAt = n => n - Volatile.Read(ref _cutFrom) == 1 ? CutAfter : -1;
            _cutter.OnRequest = (_, head) =>
            {
                lock (Requests) Requests.Add((CuttingHttpServer.Header(head, "Range"), CuttingHttpServer.Header(head, "If-Range")));
            };
        }

        public Dictionary<long, byte[]> Files { get; } = [];

        /// <summary>Body bytes after which the first response is cut; -1: whole answers with range processing.</summary>
        public volatile int CutAfter = -1;
        // The cutter's count of GETs when Cut was called: the next one is the first cut.
        private int _cutFrom;

        /// <summary>
        /// The next request gets <paramref name="bytes"/> of its body, and every later one a connection closed before
        /// any answer: the client makes no progress (progress would reset its count of cuts in a row) and gives up,
        /// keeping exactly those bytes.
        /// </summary>
        public void Cut(int bytes)
        {
            Volatile.Write(ref _cutFrom, _cutter.Requests);
            CutAfter = bytes;
        }

        public List<(string? Range, string? IfRange)> Requests { get; } = [];

        public static string ETag(byte[] bytes) => "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes)) + "\"";

        public string Url(long id) => (CutAfter >= 0 ? _cutter.BaseUrl : _base) + $"/files/d/{id}?e=1&s=x";

        public static FileHttp Start()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new FileHttp(app);
            app.MapGet("/files/d/{id:long}", (RequestDelegate)server.ServeAsync);
            app.StartAsync().GetAwaiter().GetResult();
            // Port 0: the address bound is known only once started.
            server._base = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return server;
        }

        private async Task ServeAsync(HttpContext context)
        {
            var request = context.Request;
            lock (Requests) Requests.Add((request.Headers.Range.FirstOrDefault(), request.Headers.IfRange.FirstOrDefault()));
            byte[] bytes = Files[long.Parse((string)request.RouteValues["id"]!, System.Globalization.CultureInfo.InvariantCulture)];
            await TypedResults.Stream(new MemoryStream(bytes), "application/octet-stream", null, null, new EntityTagHeaderValue(ETag(bytes)),
                enableRangeProcessing: true).ExecuteAsync(context);
        }

        public async ValueTask DisposeAsync()
        {
            await _cutter.DisposeAsync();
            await _app.DisposeAsync();
        }
    }
}
