using System.Net;
using System.Security.Cryptography;
using MySqlConnector;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21: qkchatd killed with SIGKILL while chunks of an upload are in flight; after the restart HEAD's offset is one
/// the disk holds (never beyond what was written), at least what was acknowledged, and the upload resumes from it to a
/// file with the right sha256.
/// </summary>
public sealed class UploadCrashTests
{
    private const int SIGKILL = 9;
    private const int ChunkBytes = 64 * 1024;

    [Fact(Timeout = 120_000)] // two server starts on a loaded 2-core machine
    public async Task After_SIGKILL_mid_upload_the_offset_is_consistent_and_the_upload_resumes()
    {
        await using var db = await TempDatabase.CreateAsync();
        string dir = Path.Combine(Path.GetTempPath(), "qkchat-crash-files-" + Guid.NewGuid().ToString("N"));
        int port = ServerProcess.FreePort(), httpPort = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_HTTP_PORT"] = httpPort.ToString();
        env["QKCHAT_FILES_DIR"] = dir;
        env["QKCHAT_FILES_CHUNK_BYTES"] = ChunkBytes.ToString();
        env["QKCHAT_FILES_SECRET"] = "crash test secret";
        env["QKCHAT_FILES_PUBLIC_URL"] = $"http://127.0.0.1:{httpPort}";
        var server = ServerProcess.Start(env);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(60));
            string name = AccountsHarness.UniqueName();
            var hash = new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024).Hash("a long enough secret");
            await new MySqlUserStore(db.DataSource).CreateAsync(name, name + "@example.org", hash, CancellationToken.None);
            var bytes = RandomBytes(40 * ChunkBytes + 17);
            string url, token;
            await using (var device = await ChatClient.ConnectAsync("127.0.0.1", port))
            {
                await Ok(AccountsHarness.Login(device, name, "a long enough secret"));
                var init = await Ok(device.FileUploadInitAsync("big.bin", bytes.Length, Sha(bytes)));
                url = init.GetProperty("upload_url").GetString()!;
                token = init.GetProperty("upload_token").GetString()!;
            }

            // Chunks stream in one after another; the kill lands while one is being written or recorded.
            long acknowledged = 0;
            using var stop = new CancellationTokenSource();
            var streaming = Task.Run(async () =>
            {
                try
                {
                    for (long at = 0; at < bytes.Length && !stop.IsCancellationRequested; at += ChunkBytes)
                    {
                        using var response = await Patch(http, url, token, at, bytes.AsMemory((int)at, (int)Math.Min(ChunkBytes, bytes.Length - at)));
                        if (response.StatusCode != HttpStatusCode.NoContent) return;
                        Volatile.Write(ref acknowledged, at + ChunkBytes);
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
            });
            await Wait.UntilAsync(() => Volatile.Read(ref acknowledged) >= 10 * ChunkBytes || streaming.IsCompleted,
                "ten chunks acknowledged before the kill", TimeSpan.FromSeconds(60));
            Assert.False(streaming.IsCompleted, "the upload finished before the kill");
            server.Signal(SIGKILL);
            await server.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await stop.CancelAsync();
            await streaming.WaitAsync(TimeSpan.FromSeconds(30));
            long acked = Volatile.Read(ref acknowledged);
            await server.DisposeAsync();

            server = ServerProcess.Start(env);
            await server.WaitForOutputAsync("ready: serving chat", TimeSpan.FromSeconds(60));
            using var head = new HttpRequestMessage(HttpMethod.Head, url);
            head.Headers.Add("Tus-Resumable", "1.0.0");
            head.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var headAnswer = await http.SendAsync(head);
            Assert.Equal(HttpStatusCode.OK, headAnswer.StatusCode);
            long offset = long.Parse(headAnswer.Headers.GetValues("Upload-Offset").Single());
            // Never less than acknowledged, never more than was sent (one chunk past the last acknowledgement at most),
            // always on a chunk boundary (a cut chunk is trimmed), and the staging file holds exactly that much.
            Assert.InRange(offset, acked, acked + ChunkBytes);
            Assert.Equal(0, offset % ChunkBytes);
            var staged = Directory.GetFiles(Path.Combine(dir, "staging")).Single();
            Assert.Equal(offset, new System.IO.FileInfo(staged).Length);
            Assert.Equal(bytes.AsSpan(0, (int)offset).ToArray(), File.ReadAllBytes(staged));

            HttpResponseMessage? last = null;
            for (long at = offset; at < bytes.Length; at += ChunkBytes)
            {
                last?.Dispose();
                last = await Patch(http, url, token, at, bytes.AsMemory((int)at, (int)Math.Min(ChunkBytes, bytes.Length - at)));
                Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
            }
            using (last) Assert.True(last!.Headers.Contains("Qkchat-File-Id"));
            var content = Directory.GetFiles(Path.Combine(dir, "content"), "*", SearchOption.AllDirectories).Single();
            Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(File.ReadAllBytes(content)));
        }
        finally
        {
            await server.DisposeAsync();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static Task<HttpResponseMessage> Patch(HttpClient http, string url, string token, long offset, ReadOnlyMemory<byte> chunk)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, url);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData(chunk.Span)));
        request.Content = new ByteArrayContent(chunk.ToArray());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/offset+octet-stream");
        return http.SendAsync(request);
    }
}
