using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// The real qkchatd over a throwaway database and file store, for putting the store and MariaDB into the state a
/// SIGKILL leaves at a chosen point of the upload path: uploads are started (and partly sent) through the running
/// server, the server is killed, the rig writes what the crash left (staged bytes, a content renamed into place, the
/// row's upload_offset), and the server starts again on it. Chunks are 64 KiB (the smallest files.chunk_bytes).
/// </summary>
internal sealed class CrashRig : IAsyncDisposable
{
    public const int ChunkBytes = 64 * 1024;
    private const int SIGKILL = 9;
    private const string Password = "a long enough secret";

    private readonly Dictionary<string, string> _env;
    private ExternalProcess _server;

    private CrashRig(TempDatabase db, string dir, Dictionary<string, string> env, ExternalProcess server, int port, HttpClient http)
    {
        Db = db;
        Dir = dir;
        _env = env;
        _server = server;
        Port = port;
        Http = http;
    }

    public TempDatabase Db { get; }
    public string Dir { get; }
    public int Port { get; }
    public HttpClient Http { get; }
    public string User { get; private set; } = "";
    public string ServerOutput => _server.Output;

    public static async Task<CrashRig> StartAsync()
    {
        var db = await TempDatabase.CreateAsync();
        string dir = Path.Combine(Path.GetTempPath(), "qkchat-crash-files-" + Guid.NewGuid().ToString("N"));
        int port = ServerProcess.FreePort(), httpPort = ServerProcess.FreePort();
        var env = ServerProcess.FilesEnvironment(db.Name, port, httpPort, dir, ChunkBytes);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
        var rig = new CrashRig(db, dir, env, ServerProcess.Start(env), port, http);
        await rig._server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(90));
        rig.User = AccountsHarness.UniqueName();
        var hash = new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024).Hash(Password);
        await new MySqlUserStore(db.DataSource).CreateAsync(rig.User, rig.User + "@example.org", hash, CancellationToken.None);
        return rig;
    }

    /// <summary>A logged-in chat connection of the rig's user.</summary>
    public async Task<ChatClient> DeviceAsync()
    {
        // A server that has just started JITs its first login while a loaded 2-core box builds: a generous request bound.
        var device = await ChatClient.ConnectAsync("127.0.0.1", Port, new ChatClientOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(60), RequestTimeout = TimeSpan.FromSeconds(90),
        });
        await Ok(AccountsHarness.Login(device, User, Password));
        return device;
    }

    /// <summary>SIGKILL, as a crash: nothing of the server's shutdown runs.</summary>
    public async Task KillAsync()
    {
        _server.Signal(SIGKILL);
        await _server.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>qkchatd starts again over the same database and store.</summary>
    public async Task RestartAsync()
    {
        await _server.DisposeAsync();
        _server = ServerProcess.Start(_env);
        await _server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(90));
    }

    public string StagingPath(long uploadId) => Path.Combine(Dir, "staging", uploadId.ToString(CultureInfo.InvariantCulture) + ".part");

    /// <summary>Where LocalFileStore keeps a content: content/ab/cd/&lt;sha256 hex&gt;-&lt;size&gt;.</summary>
    public string ContentPath(byte[] bytes)
    {
        string hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return Path.Combine(Dir, "content", hex[..2], hex[2..4], $"{hex}-{bytes.Length}");
    }

    /// <summary>Sets the upload row's offset as the crash left it (the offset update committed, or not).</summary>
    public Task SetOffsetAsync(long uploadId, long offset) =>
        Db.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"UPDATE file_uploads SET upload_offset = {offset} WHERE upload_id = {uploadId}"));

    public Task<long> ScalarAsync(string sql) => Db.ScalarAsync(sql);

    /// <summary>Writes <paramref name="bytes"/> at the end of the upload's staged file, fsynced (a chunk the crash left durable).</summary>
    public void AppendStaged(long uploadId, ReadOnlySpan<byte> bytes)
    {
        using var file = new FileStream(StagingPath(uploadId), FileMode.Append, FileAccess.Write);
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    /// <summary>The commit's rename: the staged file moved to its content path (the directories made as the store makes them).</summary>
    public void RenameIntoContent(long uploadId, byte[] bytes)
    {
        string target = ContentPath(bytes);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(StagingPath(uploadId), target);
    }

    public Task<HttpResponseMessage> HeadAsync(string url, string token) => Http.SendAsync(FileKit.Tus(HttpMethod.Head, url, token));

    public Task<HttpResponseMessage> PatchAsync(string url, string token, long offset, ReadOnlyMemory<byte> chunk)
    {
        var request = FileKit.Tus(HttpMethod.Patch, url, token);
        request.Content = new ByteArrayContent(chunk.ToArray());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/offset+octet-stream");
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData(chunk.Span)));
        return Http.SendAsync(request);
    }

    /// <summary>PATCHes <paramref name="bytes"/> from <paramref name="from"/> up to <paramref name="to"/>, each chunk 204; the last answer.</summary>
    public async Task<HttpResponseMessage> SendAsync(string url, string token, byte[] bytes, long from, long to)
    {
        HttpResponseMessage? last = null;
        for (long at = from; at < to; at += ChunkBytes)
        {
            last?.Dispose();
            last = await PatchAsync(url, token, at, bytes.AsMemory((int)at, (int)Math.Min(ChunkBytes, to - at)));
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        }
        return last!;
    }

    /// <summary>get_file_url, then a GET of the whole file.</summary>
    public async Task<byte[]> DownloadAsync(ChatClient device, long fileId)
    {
        var url = (await Ok(device.GetFileUrlAsync(fileId))).GetProperty("url").GetString()!;
        using var response = await Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    public static long Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? long.Parse(values.First(), CultureInfo.InvariantCulture) : -1;

    /// <summary>An upload started through file_upload_init: its id, URL and token.</summary>
    public sealed record Started(long Id, string Url, string Token);

    public static async Task<Started> InitAsync(ChatClient device, byte[] bytes, string name)
    {
        JsonElement init = await Ok(device.FileUploadInitAsync(name, bytes.Length, FileKit.Sha(bytes)));
        Assert.False(init.GetProperty("complete").GetBoolean());
        return new Started(init.GetProperty("upload_id").GetInt64(), init.GetProperty("upload_url").GetString()!,
            init.GetProperty("upload_token").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _server.DisposeAsync();
        await Db.DisposeAsync();
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
    }
}
