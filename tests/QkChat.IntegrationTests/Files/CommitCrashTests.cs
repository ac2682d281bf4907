using System.Net;
using System.Text.Json;
using QkChat.Client;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.CrashRig;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21: SIGKILL at each point of the upload path, put on disk and in MariaDB exactly as the crash leaves it (not
/// by timing a kill), then the real qkchatd started on it. After the restart an upload completes or resumes from a
/// consistent state: never an offset beyond what the store holds, never stuck, and bytes already whole on disk with
/// the declared sha256 are committed. docs/files.md, "Consistency and crashes", lists the crash points.
/// </summary>
public sealed class CommitCrashTests
{
    private const int Size = 3 * ChunkBytes + 17;

    /// <summary>Three chunks sent through the server; the crash then takes the last 17 bytes to the point given.</summary>
    private static async Task<(Started Upload, byte[] Bytes)> ThreeChunksAsync(CrashRig rig, ChatClient device, string name)
    {
        var bytes = RandomBytes(Size);
        var upload = await InitAsync(device, bytes, name);
        using (await rig.SendAsync(upload.Url, upload.Token, bytes, 0, 3 * ChunkBytes)) { }
        return (upload, bytes);
    }

    /// <summary>The last chunk appended and fsynced, its offset update committed: the row says the whole size.</summary>
    private static async Task LastChunkRecordedAsync(CrashRig rig, Started upload, byte[] bytes)
    {
        rig.AppendStaged(upload.Id, bytes.AsSpan(3 * ChunkBytes));
        await rig.SetOffsetAsync(upload.Id, bytes.Length);
    }

    [Fact(Timeout = 240_000)] // two qkchatd starts and a dozen uploads on a loaded 2-core machine
    public async Task Content_renamed_into_place_before_the_commit_is_completed_after_a_restart()
    {
        await using var rig = await StartAsync();
        try
        {
            var device = await rig.DeviceAsync();
            var (a, aBytes) = await ThreeChunksAsync(rig, device, "a.bin");
            var (b, bBytes) = await ThreeChunksAsync(rig, device, "b.bin");
            var (c, cBytes) = await ThreeChunksAsync(rig, device, "c.bin");
            await device.DisposeAsync();
            await rig.KillAsync();
            // The crash: the commit renamed the staged bytes into the content store; its transaction (blob row, file
            // row, the upload's deletion) never committed.
            foreach (var (upload, bytes) in new[] { (a, aBytes), (b, bBytes), (c, cBytes) })
            {
                await LastChunkRecordedAsync(rig, upload, bytes);
                rig.RenameIntoContent(upload.Id, bytes);
            }
            Assert.Equal(0, await rig.ScalarAsync("SELECT COUNT(*) FROM file_blobs"));
            await rig.RestartAsync();
            device = await rig.DeviceAsync();

            // HEAD: the upload is complete (offset = length) and names its file; the row is then gone.
            long aFile;
            using (var head = await rig.HeadAsync(a.Url, a.Token))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(Size, Header(head, "Upload-Offset"));
                Assert.Equal(Size, Header(head, "Upload-Length"));
                aFile = Header(head, "Qkchat-File-Id");
                Assert.True(aFile > 0, "HEAD names the file");
            }
            using (var again = await rig.HeadAsync(a.Url, a.Token)) Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            var aInit = await Ok(device.FileUploadInitAsync("a.bin", Size, Sha(aBytes)));
            Assert.True(aInit.GetProperty("complete").GetBoolean());
            Assert.Equal(aFile, aInit.GetProperty("file_id").GetInt64());
            Assert.Equal(aBytes, await rig.DownloadAsync(device, aFile));

            // PATCH from where a client believed the upload stood: the upload completes, the answer names the file.
            using (var patch = await rig.PatchAsync(b.Url, b.Token, 0, bBytes.AsMemory(0, ChunkBytes)))
            {
                Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
                Assert.Equal(Size, Header(patch, "Upload-Offset"));
                long bFile = Header(patch, "Qkchat-File-Id");
                Assert.True(bFile > 0, "the PATCH answer names the file");
                Assert.Equal(bBytes, await rig.DownloadAsync(device, bFile));
            }

            // file_upload_init again (a client that lost everything but the file): complete, with the file id.
            JsonElement cInit = await Ok(device.FileUploadInitAsync("c.bin", Size, Sha(cBytes)));
            Assert.True(cInit.GetProperty("complete").GetBoolean());
            Assert.Equal(cBytes, await rig.DownloadAsync(device, cInit.GetProperty("file_id").GetInt64()));

            Assert.Equal(0, await rig.ScalarAsync("SELECT COUNT(*) FROM file_uploads"));
            Assert.Equal(3, await rig.ScalarAsync("SELECT COUNT(*) FROM file_blobs"));
            Assert.Empty(Directory.GetFiles(Path.Combine(rig.Dir, "staging")));
            await device.DisposeAsync();
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            throw new Exception($"{e.Message}\n--- qkchatd ---\n{rig.ServerOutput}", e);
        }
    }

    [Fact(Timeout = 240_000)] // two qkchatd starts and a dozen uploads on a loaded 2-core machine
    public async Task Every_other_crash_point_resumes_from_what_the_store_holds()
    {
        await using var rig = await StartAsync();
        try
        {
            var device = await rig.DeviceAsync();
            var (whole, wholeBytes) = await ThreeChunksAsync(rig, device, "whole.bin");
            var (ahead, aheadBytes) = await ThreeChunksAsync(rig, device, "ahead.bin");
            var (lost, lostBytes) = await ThreeChunksAsync(rig, device, "lost.bin");
            var (bad, badBytes) = await ThreeChunksAsync(rig, device, "bad.bin");
            var (torn, tornBytes) = await ThreeChunksAsync(rig, device, "torn.bin");
            var unrecorded = RandomBytes(Size);
            var tail = await InitAsync(device, unrecorded, "tail.bin");
            using (await rig.SendAsync(tail.Url, tail.Token, unrecorded, 0, ChunkBytes)) { }
            await device.DisposeAsync();
            await rig.KillAsync();

            // 1. Every byte durable and recorded, the commit not begun (killed before the whole-file hash).
            await LastChunkRecordedAsync(rig, whole, wholeBytes);
            // 2. A chunk and a half appended and fsynced past the recorded offset (killed before the offset update).
            rig.AppendStaged(tail.Id, unrecorded.AsSpan(ChunkBytes, ChunkBytes + ChunkBytes / 2));
            // 3. Renamed into place, then the content lost before the restart (FileSweeper deletes a content without a
            //    blob row after an hour): the row says the whole size, the store holds nothing.
            await LastChunkRecordedAsync(rig, lost, lostBytes);
            rig.RenameIntoContent(lost.Id, lostBytes);
            File.Delete(rig.ContentPath(lostBytes));
            // 4. Renamed into place, but the bytes under the content's name are not its bytes (a damaged disk): never
            //    committed as they are.
            await LastChunkRecordedAsync(rig, bad, badBytes);
            rig.RenameIntoContent(bad.Id, badBytes);
            File.WriteAllBytes(rig.ContentPath(badBytes), RandomBytes(Size));
            // 5. The row ahead of the staged bytes (two of its three chunks are on disk).
            await rig.SetOffsetAsync(ahead.Id, 3 * ChunkBytes);
            using (var staged = new FileStream(rig.StagingPath(ahead.Id), FileMode.Open)) staged.SetLength(2 * ChunkBytes);
            // 6. Every chunk recorded but the staged bytes are not the declared file (damaged): the whole-file check fails.
            await LastChunkRecordedAsync(rig, torn, tornBytes);
            using (var staged = new FileStream(rig.StagingPath(torn.Id), FileMode.Open)) staged.Write(RandomBytes(100));
            await rig.RestartAsync();
            device = await rig.DeviceAsync();

            // 1: HEAD completes it (the staged bytes hash to the declared sha256).
            using (var head = await rig.HeadAsync(whole.Url, whole.Token))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(Size, Header(head, "Upload-Offset"));
                long file = Header(head, "Qkchat-File-Id");
                Assert.True(file > 0, "HEAD names the file of an upload whose bytes were all durable");
                Assert.Equal(wholeBytes, await rig.DownloadAsync(device, file));
            }

            // 2: the unrecorded bytes are trimmed: HEAD answers the recorded chunk boundary and the file holds exactly it.
            using (var head = await rig.HeadAsync(tail.Url, tail.Token))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(ChunkBytes, Header(head, "Upload-Offset"));
            }
            Assert.Equal(unrecorded.AsSpan(0, ChunkBytes).ToArray(), await File.ReadAllBytesAsync(rig.StagingPath(tail.Id)));
            await ResumeAndDownloadAsync(rig, device, tail, unrecorded, ChunkBytes);

            // 3 and 4: nothing (or nothing right) on disk: HEAD answers 0, never the row's offset; the upload resumes.
            foreach (var (upload, bytes) in new[] { (lost, lostBytes), (bad, badBytes) })
            {
                using (var head = await rig.HeadAsync(upload.Url, upload.Token))
                {
                    Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                    Assert.Equal(0, Header(head, "Upload-Offset"));
                }
                await ResumeAndDownloadAsync(rig, device, upload, bytes, 0);
            }

            // 5: the row rewound to the two chunks on disk, by a PATCH at the row's offset (409 with the real one).
            using (var patch = await rig.PatchAsync(ahead.Url, ahead.Token, 3 * ChunkBytes, aheadBytes.AsMemory(3 * ChunkBytes)))
            {
                Assert.Equal(HttpStatusCode.Conflict, patch.StatusCode);
                Assert.Equal(2 * ChunkBytes, Header(patch, "Upload-Offset"));
            }
            await ResumeAndDownloadAsync(rig, device, ahead, aheadBytes, 2 * ChunkBytes);

            // 6: the whole-file mismatch deletes the upload (404), and file_upload_init starts a new one from 0.
            using (var head = await rig.HeadAsync(torn.Url, torn.Token)) Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
            var again = await Ok(device.FileUploadInitAsync("torn.bin", Size, Sha(tornBytes)));
            Assert.False(again.GetProperty("complete").GetBoolean());
            Assert.Equal(0, again.GetProperty("offset").GetInt64());
            Assert.NotEqual(torn.Id, again.GetProperty("upload_id").GetInt64());

            Assert.Equal(1, await rig.ScalarAsync("SELECT COUNT(*) FROM file_uploads"));
            await device.DisposeAsync();
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            throw new Exception($"{e.Message}\n--- qkchatd ---\n{rig.ServerOutput}", e);
        }
    }

    /// <summary>Sends the rest from <paramref name="from"/>; the last answer names the file, whose download is the bytes.</summary>
    private static async Task ResumeAndDownloadAsync(CrashRig rig, ChatClient device, Started upload, byte[] bytes, long from)
    {
        using var last = await rig.SendAsync(upload.Url, upload.Token, bytes, from, bytes.Length);
        long file = Header(last, "Qkchat-File-Id");
        Assert.True(file > 0, $"upload {upload.Id} completed");
        Assert.Equal(bytes, await rig.DownloadAsync(device, file));
    }
}
