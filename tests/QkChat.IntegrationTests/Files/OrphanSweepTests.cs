using System.Globalization;
using QkChat.Core.Files;
using QkChat.IntegrationTests.Groups;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21: bytes a crash leaves that no MariaDB row names. A SIGKILL after an upload's content was renamed into
/// place but before its transaction committed leaves a whole content file without a file_blobs row; an interrupted
/// writer can leave a temporary file. The files are planted as such a crash leaves them (content named by sha256 and
/// size, a stray temporary file), with their write times set against the sweeper's clock; the real sweeper, on the
/// real store and MariaDB, deletes them once older than <c>FileSweeper.OrphanAge</c> and leaves everything else.
/// </summary>
public sealed class OrphanSweepTests
{
    [Fact(Timeout = 60_000)]
    public async Task Content_without_a_row_and_stray_files_are_deleted_after_the_safe_age_and_nothing_else()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var kit = await FileKit.StartAsync(clock: clock);
        var (_, device) = await kit.UserAsync();

        // A real file: uploaded, referenced by nothing yet (the unreferenced rule keeps it 24 h), with an old write time.
        var kept = RandomBytes(3 * Chunk);
        var (id, token, _) = Upload(await InitAsync(device, kept));
        await kit.SendAsync(id, token, kept, 0, kept.Length);
        string keptPath = ContentPath(kit, kept);
        Assert.True(File.Exists(keptPath));
        // An unfinished upload's staged bytes (its row exists).
        var half = RandomBytes(2 * Chunk);
        var (openId, openToken, _) = Upload(await InitAsync(device, half, "half.bin"));
        await kit.SendAsync(openId, openToken, half, 0, Chunk);
        string openPart = Path.Combine(kit.Dir, "staging", openId.ToString(CultureInfo.InvariantCulture) + ".part");
        Assert.True(File.Exists(openPart));

        var now = clock.GetUtcNow().UtcDateTime;
        var old = now - FileSweeper.OrphanAge - TimeSpan.FromMinutes(1);
        var recent = now - TimeSpan.FromMinutes(1);
        // What a crash left: a whole content with no blob row (old, and one just written: a commit may be in flight),
        // and temporary files in the staging and content areas.
        string orphan = Plant(kit, ContentPath(kit, RandomBytes(1000)), 1000, old);
        string youngOrphan = Plant(kit, ContentPath(kit, RandomBytes(500)), 500, recent);
        string stray = Plant(kit, Path.Combine(kit.Dir, "staging", ".7.part.tmp"), 10, old);
        string strayInContent = Plant(kit, Path.Combine(Path.GetDirectoryName(keptPath)!, "x.tmp"), 10, old);
        string youngStray = Plant(kit, Path.Combine(kit.Dir, "staging", "copy.tmp"), 10, recent);
        foreach (string path in new[] { keptPath, openPart }) File.SetLastWriteTimeUtc(path, old);

        await kit.Chat.Features.FileSweeper.SweepAsync(CancellationToken.None);

        Assert.False(File.Exists(orphan), "content without a row, older than the safe age");
        Assert.False(File.Exists(stray), "a stray temporary file in staging");
        Assert.False(File.Exists(strayInContent), "a stray temporary file among contents");
        Assert.True(File.Exists(youngOrphan), "content without a row but younger than the safe age (a commit may be in flight)");
        Assert.True(File.Exists(youngStray), "a young temporary file");
        Assert.True(File.Exists(keptPath), "a content MariaDB knows");
        Assert.True(File.Exists(openPart), "the staged bytes of an upload MariaDB knows");

        // The upload still completes, and the kept file still downloads whole.
        Assert.Equal(UploadStatus.Completed, (await kit.SendAsync(openId, openToken, half, Chunk, half.Length)).Status);
        Assert.Equal(kept, await File.ReadAllBytesAsync(keptPath));
    }

    private static string ContentPath(FileKit kit, byte[] bytes) =>
        kit.Chat.Features.FileStore.ContentPath(new ContentKey(System.Security.Cryptography.SHA256.HashData(bytes), bytes.Length));

    private static string Plant(FileKit kit, string path, int size, DateTime writtenAt)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, RandomBytes(size));
        File.SetLastWriteTimeUtc(path, writtenAt);
        return path;
    }
}
