using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using QkChat.Client;
using QkChat.Core.Files;
using QkChat.IntegrationTests.Audit;
using QkChat.IntegrationTests.Mail;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21: stored content whose file in files.dir is missing or has the wrong length (disk trouble, an operator's
/// mistake, a crash), though its file_blobs row says it is stored. file_upload_init must not hand out files over it
/// (docs/files.md, file_upload_init rule 1): it checks the content file (a stat, not a hash) and, when it is not whole,
/// starts a real upload whose completion stores the bytes again under the same key, so the earlier users' files open
/// again. A download of a file whose content is lost answers 404 with a log line naming the content, never a hang, a
/// crash or a short body.
/// </summary>
public sealed class LostContentTests
{
    [Fact(Timeout = 60_000)]
    public Task Content_deleted_from_the_store_is_uploaded_again_by_the_next_init_and_both_files_open() =>
        LostContentIsUploadedAgainAsync(path => File.Delete(path));

    [Fact(Timeout = 60_000)]
    public Task Content_truncated_in_the_store_is_uploaded_again_by_the_next_init_and_both_files_open() =>
        LostContentIsUploadedAgainAsync(path =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(file.Length / 2);
        });

    private static async Task LostContentIsUploadedAgainAsync(Action<string> damage)
    {
        var log = new CapturingLogger();
        await using var kit = await FileKit.StartAsync(loggers: new OneLoggerFactory(log));
        await kit.StartHttpAsync();
        var (_, alice) = await kit.UserAsync();
        var (_, bob) = await kit.UserAsync();
        var bytes = RandomBytes(3 * Chunk + 17);
        var (id, token, _) = Upload(await InitAsync(alice, bytes, "alices.bin"));
        long aliceFile = (await kit.SendAsync(id, token, bytes, 0, bytes.Length)).FileId;
        string path = ContentPath(kit, bytes);
        Assert.True(File.Exists(path));

        damage(path);

        // Bob's init of the same bytes: a real upload (not "complete" over nothing), and a warning naming the content.
        var init = await InitAsync(bob, bytes, "bobs.bin");
        Assert.False(init.GetProperty("complete").GetBoolean(), "file_upload_init answered complete over a content the store does not hold whole");
        var again = Upload(init);
        Assert.Equal(0, again.Offset);
        Assert.Contains(log.At(LogLevel.Warning), l => l.Contains(Sha(bytes), StringComparison.Ordinal));

        var done = await kit.SendAsync(again.UploadId, again.Token, bytes, 0, bytes.Length);
        Assert.Equal(UploadStatus.Completed, done.Status);
        Assert.NotEqual(aliceFile, done.FileId);
        Assert.Equal(bytes.Length, new FileInfo(path).Length);
        Assert.Equal(1, kit.StoredContents());

        // Both files open with the right bytes: alice's earlier one too, over the content stored again.
        Assert.Equal(bytes, await DownloadAsync(kit, alice, aliceFile));
        Assert.Equal(bytes, await DownloadAsync(kit, bob, done.FileId));
        // The content is whole again: the next init of it is answered at once.
        Assert.True((await InitAsync(alice, bytes, "alices copy.bin")).GetProperty("complete").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_download_of_a_file_whose_content_is_missing_answers_404_and_logs_the_content()
    {
        var log = new CapturingLogger();
        await using var kit = await FileKit.StartAsync(loggers: new OneLoggerFactory(log));
        await kit.StartHttpAsync();
        var (_, alice) = await kit.UserAsync();
        var bytes = RandomBytes(2 * Chunk);
        var (id, token, _) = Upload(await InitAsync(alice, bytes));
        long file = (await kit.SendAsync(id, token, bytes, 0, bytes.Length)).FileId;
        File.Delete(ContentPath(kit, bytes));

        string url = (await Ok(alice.GetFileUrlAsync(file))).GetProperty("url").GetString()!;
        using var response = await kit.Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(log.At(LogLevel.Error), l => l.Contains(Sha(bytes), StringComparison.Ordinal) && l.Contains("missing", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_download_of_a_file_whose_content_has_the_wrong_length_answers_404_not_a_short_body()
    {
        var log = new CapturingLogger();
        await using var kit = await FileKit.StartAsync(loggers: new OneLoggerFactory(log));
        await kit.StartHttpAsync();
        var (_, alice) = await kit.UserAsync();
        var bytes = RandomBytes(2 * Chunk);
        var (id, token, _) = Upload(await InitAsync(alice, bytes));
        long file = (await kit.SendAsync(id, token, bytes, 0, bytes.Length)).FileId;
        await File.WriteAllBytesAsync(ContentPath(kit, bytes), bytes.AsMemory(0, Chunk).ToArray(), TestContext.Current.CancellationToken);

        string url = (await Ok(alice.GetFileUrlAsync(file))).GetProperty("url").GetString()!;
        using var response = await kit.Http.GetAsync(url);

        // A 200 of the short file would pass for the whole one (its Content-Length is the file's length on disk).
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(log.At(LogLevel.Error), l => l.Contains(Sha(bytes), StringComparison.Ordinal));
    }

    private static string ContentPath(FileKit kit, byte[] bytes) =>
        kit.Chat.Features.FileStore.ContentPath(new ContentKey(SHA256.HashData(bytes), bytes.Length));

    /// <summary>get_file_url, then a GET of the whole file (asserted 200).</summary>
    private static async Task<byte[]> DownloadAsync(FileKit kit, ChatClient device, long fileId)
    {
        string url = (await Ok(device.GetFileUrlAsync(fileId))).GetProperty("url").GetString()!;
        using var response = await kit.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
