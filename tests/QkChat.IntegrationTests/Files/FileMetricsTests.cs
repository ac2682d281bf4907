using System.Net;
using System.Net.Http.Headers;
using QkChat.IntegrationTests.Admin;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21 (operability): the file transfer counters on /metrics (docs/observability.md) move with real uploads and
/// downloads over the public HTTP listener: started, deduplicated, completed, refusals by reason, bytes each way.
/// </summary>
public sealed class FileMetricsTests
{
    private static double Value(Dictionary<string, double> metrics, string name) =>
        metrics.TryGetValue(name, out double v) ? v : throw new Xunit.Sdk.XunitException($"{name} is not on /metrics");

    private static string Failures(string reason) => $"qkchat_files_upload_failures_total{{reason=\"{reason}\"}}";

    [Fact(Timeout = 60_000)]
    public async Task Upload_and_download_counters_move_with_transfers()
    {
        await using var kit = await FileKit.StartAsync(admin: true);
        await kit.StartHttpAsync();
        var admin = kit.Admin!;
        var (_, device) = await kit.UserAsync();
        var (_, other) = await kit.UserAsync();

        var before = AdminHarness.ParsePrometheus((await admin.GetAsync("metrics")).Body);
        foreach (string name in new[] { "qkchat_files_uploads_started_total", "qkchat_files_uploads_completed_total", "qkchat_files_uploads_deduplicated_total",
                     "qkchat_files_received_bytes_total", "qkchat_files_downloads_total", "qkchat_files_served_bytes_total", Failures("chunk_checksum"),
                     Failures("file_checksum"), Failures("wrong_offset"), Failures("unauthorized"), Failures("expired"), Failures("cut_off") })
            Assert.Equal(0, Value(before, name));

        // One upload of 2.5 chunks, with one bad chunk checksum and one wrong offset on the way.
        var bytes = RandomBytes(2 * Chunk + Chunk / 2);
        var init = await InitAsync(device, bytes, "counted.bin");
        var (_, token, _) = Upload(init);
        string url = init.GetProperty("upload_url").GetString()!;
        using (var bad = await kit.PatchAsync(url, token, 0, bytes.AsMemory(0, Chunk), checksum: new byte[32])) Assert.Equal(460, (int)bad.StatusCode);
        using (var wrong = await kit.PatchAsync(url, token, Chunk, bytes.AsMemory(0, Chunk))) Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        using (var noToken = await kit.PatchAsync(url, "forged", 0, bytes.AsMemory(0, Chunk))) Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        long fileId = 0;
        for (int at = 0; at < bytes.Length; at += Chunk)
        {
            using var r = await kit.PatchAsync(url, token, at, bytes.AsMemory(at, Math.Min(Chunk, bytes.Length - at)));
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            if (r.Headers.TryGetValues("Qkchat-File-Id", out var ids)) fileId = long.Parse(ids.Single());
        }
        Assert.True(fileId > 0);

        // The same bytes from another user: complete at once, no upload started.
        var again = await InitAsync(other, bytes, "copy.bin");
        Assert.True(again.GetProperty("complete").GetBoolean());

        // A whole-file mismatch: declared one sha256, sent other bytes.
        var liar = RandomBytes(Chunk / 4);
        var lieInit = await InitAsync(device, liar, "liar.bin", sha: Sha(RandomBytes(Chunk / 4)));
        var (_, lieToken, _) = Upload(lieInit);
        using (var r = await kit.PatchAsync(lieInit.GetProperty("upload_url").GetString()!, lieToken, 0, liar)) Assert.Equal(460, (int)r.StatusCode);

        // Downloads: the whole file, then a range of 100 bytes; a HEAD sends no bytes and is not a download.
        var link = await Ok(device.GetFileUrlAsync(fileId));
        string download = link.GetProperty("url").GetString()!;
        Assert.Equal(bytes, await kit.Http.GetByteArrayAsync(download));
        using (var ranged = new HttpRequestMessage(HttpMethod.Get, download))
        {
            ranged.Headers.Range = new RangeHeaderValue(10, 109);
            using var answer = await kit.Http.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, answer.StatusCode);
            Assert.Equal(100, (await answer.Content.ReadAsByteArrayAsync()).Length);
        }
        using (var head = await kit.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, download))) Assert.Equal(HttpStatusCode.OK, head.StatusCode);

        var after = AdminHarness.ParsePrometheus((await admin.GetAsync("metrics")).Body);
        Assert.Equal(2, Value(after, "qkchat_files_uploads_started_total"));
        Assert.Equal(1, Value(after, "qkchat_files_uploads_completed_total"));
        Assert.Equal(1, Value(after, "qkchat_files_uploads_deduplicated_total"));
        Assert.Equal(1, Value(after, Failures("chunk_checksum")));
        Assert.Equal(1, Value(after, Failures("wrong_offset")));
        Assert.Equal(1, Value(after, Failures("unauthorized")));
        Assert.Equal(1, Value(after, Failures("file_checksum")));
        Assert.Equal(0, Value(after, Failures("expired")));
        // Durable bytes: the good upload's and the liar's (appended before the whole-file check refused it).
        Assert.Equal(bytes.Length + liar.Length, Value(after, "qkchat_files_received_bytes_total"));
        Assert.Equal(2, Value(after, "qkchat_files_downloads_total"));
        Assert.Equal(bytes.Length + 100, Value(after, "qkchat_files_served_bytes_total"));
    }
}
