using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Client;
using QkChat.Core.Files;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using QkChat.Server.Files;
using QkChat.Server.Web;
using Xunit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// A ChatHarness whose file store is a fresh temporary directory, with small chunks (64 KiB) so a test file of a few
/// hundred KiB spans several chunks, and users logged in over the protocol.
/// </summary>
internal sealed class FileKit : IAsyncDisposable
{
    public const int Chunk = 64 * 1024;

    private FileKit(ChatHarness chat, string dir, FileTransferOptions options, Admin.AdminHarness? admin = null)
    {
        Chat = chat;
        Admin = admin;
        Dir = dir;
        Options = options;
    }

    public FileTransferOptions Options { get; }

    /// <summary>The public HTTP listener with the file routes, after <see cref="StartHttpAsync"/>.</summary>
    public WebServer? Web { get; private set; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Starts the public HTTP listener on a free loopback port with the tus and download routes, as qkchatd maps them.</summary>
    public async Task StartHttpAsync()
    {
        var routes = new TusEndpoints(Uploads, Chat.Features.Downloads, NullLogger.Instance);
        Web = await WebServer.StartAsync(new HttpOptions { Host = "127.0.0.1", Port = 0 }, Chat.Server.Engine, null, [routes],
            NullLoggerFactory.Instance, CancellationToken.None);
        Options.PublicUrl = $"http://127.0.0.1:{Web.EndPoint.Port}";
        Http.BaseAddress = new Uri(Options.PublicUrl);
    }

    public ChatHarness Chat { get; }

    /// <summary>The admin listener (/metrics) over <see cref="Chat"/>, when started with admin: true.</summary>
    public Admin.AdminHarness? Admin { get; }
    public string Dir { get; }
    public FileUploads Uploads => Chat.Features.Uploads;

    /// <param name="loggers">Where the server logs (a test that checks its warnings; not with admin); default: nowhere.</param>
    public static async Task<FileKit> StartAsync(long maxBytes = 1024 * 1024, int maxOpenUploads = 20, long maxBytesPerDay = 1L << 30,
        TimeProvider? clock = null, bool admin = false, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "qkchat-files-" + Guid.NewGuid().ToString("N"));
        var options = new FileTransferOptions
        {
            Dir = dir, MaxBytes = maxBytes, ChunkBytes = Chunk, MaxOpenUploadsPerUser = maxOpenUploads, MaxBytesPerUserPerDay = maxBytesPerDay,
            Secret = "test secret", PublicUrl = "http://127.0.0.1:1",
        };
        if (admin)
        {
            var harness = await QkChat.IntegrationTests.Admin.AdminHarness.StartAsync(files: options);
            return new FileKit(harness.Chat, dir, options, harness);
        }
        return new FileKit(await ChatHarness.StartAsync(files: options, fileClock: clock, loggers: loggers), dir, options);
    }

    public async Task<(uint Id, ChatClient Device)> UserAsync()
    {
        var (id, name) = await Chat.CreateUserAsync();
        return (id, await Chat.LoginAsync(name));
    }

    /// <summary>A tus request to an upload URL with its bearer token and the protocol version header.</summary>
    public static HttpRequestMessage Tus(HttpMethod method, string url, string? token)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>PATCH of <paramref name="chunk"/> at <paramref name="offset"/>, with its sha256 (or the one given).</summary>
    public Task<HttpResponseMessage> PatchAsync(string url, string token, long offset, ReadOnlyMemory<byte> chunk, byte[]? checksum = null, bool withChecksum = true)
    {
        var request = Tus(HttpMethod.Patch, url, token);
        request.Content = new ByteArrayContent(chunk.ToArray());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/offset+octet-stream");
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (withChecksum) request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(checksum ?? SHA256.HashData(chunk.Span)));
        return Http.SendAsync(request);
    }

    /// <summary>HEAD of an upload: the status and Upload-Offset (-1 when absent).</summary>
    public async Task<(System.Net.HttpStatusCode Status, long Offset)> HeadAsync(string url, string? token)
    {
        using var response = await Http.SendAsync(Tus(HttpMethod.Head, url, token));
        return (response.StatusCode, response.Headers.TryGetValues("Upload-Offset", out var v) ? long.Parse(v.First()) : -1);
    }

    public static byte[] RandomBytes(int n) => RandomNumberGenerator.GetBytes(n);

    public static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>file_upload_init's answer data (asserted OK).</summary>
    public static Task<JsonElement> InitAsync(ChatClient device, byte[] bytes, string name = "test.bin", string? sha = null) =>
        ChatHarness.Ok(device.FileUploadInitAsync(name, bytes.Length, sha ?? Sha(bytes), "application/octet-stream"));

    public static (long UploadId, string Token, long Offset) Upload(JsonElement init)
    {
        Assert.False(init.GetProperty("complete").GetBoolean());
        return (init.GetProperty("upload_id").GetInt64(), init.GetProperty("upload_token").GetString()!, init.GetProperty("offset").GetInt64());
    }

    /// <summary>Sends <paramref name="bytes"/> from <paramref name="from"/> up to <paramref name="to"/> in chunks; returns the last answer.</summary>
    public async Task<UploadAnswer> SendAsync(long uploadId, string token, byte[] bytes, long from, long to)
    {
        UploadAnswer last = default;
        for (long at = from; at < to; at += Chunk)
        {
            var chunk = bytes.AsMemory((int)at, (int)Math.Min(Chunk, to - at));
            last = await Uploads.PatchAsync(uploadId, token, at, chunk, SHA256.HashData(chunk.Span), CancellationToken.None);
            Assert.True(last.Status is UploadStatus.Ok or UploadStatus.Completed, $"chunk at {at}: {last.Status}");
        }
        return last;
    }

    /// <summary>Content files in the store (the same bytes are one file).</summary>
    public int StoredContents() => Chat.Features.FileStore.ContentCount();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (Web is not null) await Web.DisposeAsync();
        if (Admin is not null) await Admin.DisposeAsync();
        else await Chat.DisposeAsync();
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
    }
}
