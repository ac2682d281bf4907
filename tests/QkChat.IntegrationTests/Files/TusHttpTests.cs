using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using QkChat.IntegrationTests.Groups;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21 point 4: tus 1.0 core (HEAD, PATCH, checksum extension) and signed downloads over the real public HTTP
/// listener (Kestrel), as a client sees them.
/// </summary>
public sealed class TusHttpTests
{
    private static string Url(System.Text.Json.JsonElement init) => init.GetProperty("upload_url").GetString()!;

    private static long FileIdOf(HttpResponseMessage response) => long.Parse(response.Headers.GetValues("Qkchat-File-Id").Single());

    private static async Task<long> UploadAllAsync(FileKit kit, string url, string token, byte[] bytes, long from = 0)
    {
        HttpResponseMessage? last = null;
        for (long at = from; at < bytes.Length; at += Chunk)
        {
            last?.Dispose();
            last = await kit.PatchAsync(url, token, at, bytes.AsMemory((int)at, (int)Math.Min(Chunk, bytes.Length - at)));
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
            Assert.Equal(Math.Min(at + Chunk, bytes.Length), long.Parse(last.Headers.GetValues("Upload-Offset").Single()));
        }
        using (last) return FileIdOf(last!);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_upload_cut_mid_chunk_at_half_resumes_from_HEADs_offset_and_downloads_byte_for_byte()
    {
        await using var kit = await FileKit.StartAsync();
        await kit.StartHttpAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(6 * Chunk + 321);
        var init = await InitAsync(device, bytes, "video.mp4");
        var (_, token, _) = Upload(init);
        string url = Url(init);
        Assert.Equal((HttpStatusCode.OK, 0L), await kit.HeadAsync(url, token));
        long half = 3 * Chunk;
        for (long at = 0; at < half; at += Chunk)
            using (var r = await kit.PatchAsync(url, token, at, bytes.AsMemory((int)at, Chunk))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);

        // The next PATCH is cut off halfway through its body (the connection drops): nothing of it may count.
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(IPAddress.Loopback, kit.Web!.EndPoint.Port);
            var stream = socket.GetStream();
            string head = $"PATCH {new Uri(url).AbsolutePath} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {token}\r\n" +
                $"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {half}\r\nContent-Length: {Chunk}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(bytes.AsMemory((int)half, Chunk / 2));
            await stream.FlushAsync();
            socket.Client.Shutdown(SocketShutdown.Both);
        }
        // HEAD takes the upload's lock, so it answers after the cut PATCH is done with it.
        var (status, offset) = await kit.HeadAsync(url, token);
        Assert.Equal((HttpStatusCode.OK, half), (status, offset));

        long fileId = await UploadAllAsync(kit, url, token, bytes, offset);
        var link = (await Ok(device.GetFileUrlAsync(fileId))).GetProperty("url").GetString()!;
        using var download = await kit.Http.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes.Length, download.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"\"{Sha(bytes)}\"", download.Headers.ETag!.Tag);
    }

    [Fact(Timeout = 60_000)]
    public async Task Range_requests_return_exactly_the_bytes_asked_for()
    {
        await using var kit = await FileKit.StartAsync();
        await kit.StartHttpAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(Chunk + 1000);
        var init = await InitAsync(device, bytes);
        long fileId = await UploadAllAsync(kit, Url(init), Upload(init).Token, bytes);
        string link = (await Ok(device.GetFileUrlAsync(fileId))).GetProperty("url").GetString()!;

        async Task<(HttpStatusCode Status, byte[] Body, string? ContentRange)> Range(string range)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, link);
            request.Headers.TryAddWithoutValidation("Range", range);
            using var response = await kit.Http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentRange?.ToString());
        }

        async Task Expect(string range, byte[] expected, string contentRange)
        {
            var got = await Range(range);
            Assert.Equal((HttpStatusCode.PartialContent, contentRange), (got.Status, got.ContentRange));
            Assert.Equal(expected, got.Body);
        }

        await Expect("bytes=100-199", bytes[100..200], $"bytes 100-199/{bytes.Length}");
        await Expect($"bytes={Chunk}-", bytes[Chunk..], $"bytes {Chunk}-{bytes.Length - 1}/{bytes.Length}");
        await Expect("bytes=-50", bytes[^50..], $"bytes {bytes.Length - 50}-{bytes.Length - 1}/{bytes.Length}");
        await Expect("bytes=0-0", bytes[..1], $"bytes 0-0/{bytes.Length}");
        var (status, body, contentRange) = await Range($"bytes={bytes.Length}-");
        Assert.Equal((HttpStatusCode.RequestedRangeNotSatisfiable, $"bytes */{bytes.Length}"), (status, contentRange));
        Assert.Empty(body);
    }

    [Fact(Timeout = 60_000)]
    public async Task Bad_chunk_checksum_is_460_with_the_offset_unchanged_and_a_wrong_offset_409()
    {
        await using var kit = await FileKit.StartAsync();
        await kit.StartHttpAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(2 * Chunk);
        var init = await InitAsync(device, bytes);
        var (_, token, _) = Upload(init);
        string url = Url(init);
        using (var r = await kit.PatchAsync(url, token, 0, bytes.AsMemory(0, Chunk))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);

        using (var bad = await kit.PatchAsync(url, token, Chunk, bytes.AsMemory(Chunk, Chunk), checksum: SHA256.HashData(bytes.AsSpan(0, Chunk))))
            Assert.Equal(460, (int)bad.StatusCode);
        Assert.Equal((HttpStatusCode.OK, (long)Chunk), await kit.HeadAsync(url, token));
        using (var conflict = await kit.PatchAsync(url, token, 0, bytes.AsMemory(0, 10)))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal(Chunk.ToString(), conflict.Headers.GetValues("Upload-Offset").Single());
        }
        using (var done = await kit.PatchAsync(url, token, Chunk, bytes.AsMemory(Chunk, Chunk))) Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_whole_file_mismatch_is_460_and_nothing_is_stored()
    {
        await using var kit = await FileKit.StartAsync();
        await kit.StartHttpAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(Chunk + 10);
        var init = await InitAsync(device, bytes, sha: Sha(RandomBytes(8)));
        var (_, token, _) = Upload(init);
        string url = Url(init);
        using (var r = await kit.PatchAsync(url, token, 0, bytes.AsMemory(0, Chunk))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var last = await kit.PatchAsync(url, token, Chunk, bytes.AsMemory(Chunk)))
        {
            Assert.Equal(460, (int)last.StatusCode);
            Assert.False(last.Headers.Contains("Qkchat-File-Id"));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await kit.HeadAsync(url, token)).Status);
        Assert.Equal(0, kit.StoredContents());
    }

    [Fact(Timeout = 60_000)]
    public async Task Requests_without_version_type_or_token_are_refused()
    {
        await using var kit = await FileKit.StartAsync();
        await kit.StartHttpAsync();
        var (_, device) = await kit.UserAsync();
        var init = await InitAsync(device, RandomBytes(100));
        string url = Url(init);
        using (var noVersion = await kit.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url)))
            Assert.Equal(HttpStatusCode.PreconditionFailed, noVersion.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await kit.HeadAsync(url, null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await kit.HeadAsync(url, "forged")).Status);
        var wrongType = Tus(HttpMethod.Patch, url, Upload(init).Token);
        wrongType.Headers.Add("Upload-Offset", "0");
        wrongType.Content = new ByteArrayContent([1, 2, 3]);
        using (var r = await kit.Http.SendAsync(wrongType)) Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        using (var options = await kit.Http.SendAsync(new HttpRequestMessage(HttpMethod.Options, url)))
        {
            Assert.Equal(HttpStatusCode.NoContent, options.StatusCode);
            Assert.Equal("checksum", options.Headers.GetValues("Tus-Extension").Single());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_forged_or_expired_url_is_403_and_a_stranger_gets_no_url()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var kit = await FileKit.StartAsync(clock: clock);
        await kit.StartHttpAsync();
        var (_, device) = await kit.UserAsync();
        var (_, stranger) = await kit.UserAsync();
        var bytes = RandomBytes(100);
        var init = await InitAsync(device, bytes);
        long fileId = await UploadAllAsync(kit, Url(init), Upload(init).Token, bytes);
        Assert.Equal(ErrorCodes.NotFound, (await stranger.GetFileUrlAsync(fileId)).Code);
        string link = (await Ok(device.GetFileUrlAsync(fileId))).GetProperty("url").GetString()!;

        using (var ok = await kit.Http.GetAsync(link)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        string otherFile = link.Replace($"/files/d/{fileId}?", $"/files/d/{fileId + 1}?");
        string longer = link.Replace("?e=", "?e=9");
        string badSig = link[..^4] + (link.EndsWith("AAAA") ? "BBBB" : "AAAA");
        foreach (string forged in new[] { otherFile, longer, badSig, link[..link.IndexOf('&')] })
            using (var r = await kit.Http.GetAsync(forged)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);

        clock.Advance(TimeSpan.FromMinutes(10));
        using (var expired = await kit.Http.GetAsync(link)) Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
    }
}
