using System.Security.Cryptography;
using QkChat.Core.Files;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21: file_upload_init and the tus upload logic against the real catalog in MariaDB and the local store (the
/// HTTP mapping has its own tests): resumption, dedup, checksums, the cap, and who may fetch a file.
/// </summary>
public sealed class UploadTests
{
    [Fact(Timeout = 60_000)]
    public async Task An_upload_cut_at_half_resumes_from_the_servers_offset_and_stores_the_exact_bytes()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(5 * Chunk + 1234);
        var (id, token, offset) = Upload(await InitAsync(device, bytes));
        Assert.Equal(0, offset);
        long half = 3 * Chunk;
        await kit.SendAsync(id, token, bytes, 0, half);

        // The client was cut off: it asks again (same file) and HEADs; both say where the server is.
        var again = Upload(await InitAsync(device, bytes));
        Assert.Equal(id, again.UploadId);
        Assert.Equal(half, again.Offset);
        var head = await kit.Uploads.HeadAsync(id, again.Token, CancellationToken.None);
        Assert.Equal((UploadStatus.Ok, half, (long)bytes.Length), (head.Status, head.Offset, head.Length));

        var done = await kit.SendAsync(id, again.Token, bytes, head.Offset, bytes.Length);
        Assert.Equal(UploadStatus.Completed, done.Status);
        Assert.True(done.FileId > 0);
        var file = (await kit.Chat.Features.FileCatalog.FindAsync(done.FileId, CancellationToken.None))!;
        await using var stored = (await kit.Chat.Features.FileStore.OpenReadAsync(file.Content, 0, CancellationToken.None))!;
        Assert.Equal(SHA256.HashData(bytes), await SHA256.HashDataAsync(stored));
        Assert.Equal(1, kit.StoredContents());
        // The upload is finished: its token finds nothing more.
        Assert.Equal(UploadStatus.NotFound, (await kit.Uploads.HeadAsync(id, again.Token, CancellationToken.None)).Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_same_file_from_a_second_user_completes_at_once_and_is_stored_once()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, alice) = await kit.UserAsync();
        var (_, bob) = await kit.UserAsync();
        var bytes = RandomBytes(2 * Chunk + 7);
        var (id, token, _) = Upload(await InitAsync(alice, bytes));
        long aliceFile = (await kit.SendAsync(id, token, bytes, 0, bytes.Length)).FileId;

        var init = await InitAsync(bob, bytes, name: "bobs copy.bin");
        Assert.True(init.GetProperty("complete").GetBoolean());
        long bobFile = init.GetProperty("file_id").GetInt64();
        Assert.NotEqual(aliceFile, bobFile); // bob's own name over the same content
        Assert.Equal(1, kit.StoredContents());
        // Asked again, bob's same file comes back rather than a new one.
        Assert.Equal(bobFile, (await InitAsync(bob, bytes, name: "bobs copy.bin")).GetProperty("file_id").GetInt64());
    }

    [Fact(Timeout = 60_000)]
    public async Task Two_users_uploading_one_file_at_once_store_it_once()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, alice) = await kit.UserAsync();
        var (_, bob) = await kit.UserAsync();
        var bytes = RandomBytes(4 * Chunk);
        var a = Upload(await InitAsync(alice, bytes));
        var b = Upload(await InitAsync(bob, bytes));
        Assert.NotEqual(a.UploadId, b.UploadId);

        var results = await Task.WhenAll(
            Task.Run(() => kit.SendAsync(a.UploadId, a.Token, bytes, 0, bytes.Length)),
            Task.Run(() => kit.SendAsync(b.UploadId, b.Token, bytes, 0, bytes.Length)));
        Assert.All(results, r => Assert.Equal(UploadStatus.Completed, r.Status));
        Assert.NotEqual(results[0].FileId, results[1].FileId);
        Assert.Equal(1, kit.StoredContents());
        Assert.Empty(kit.Chat.Features.FileStore.StagedUploads());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_chunk_with_a_wrong_checksum_gets_460_and_the_offset_does_not_move()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(3 * Chunk);
        var (id, token, _) = Upload(await InitAsync(device, bytes));
        await kit.SendAsync(id, token, bytes, 0, Chunk);

        var wrong = SHA256.HashData(bytes.AsSpan(0, Chunk)); // the checksum of another chunk
        var answer = await kit.Uploads.PatchAsync(id, token, Chunk, bytes.AsMemory(Chunk, Chunk), wrong, CancellationToken.None);
        Assert.Equal((UploadStatus.ChunkChecksumMismatch, (long)Chunk), (answer.Status, answer.Offset));
        Assert.Equal(Chunk, (await kit.Uploads.HeadAsync(id, token, CancellationToken.None)).Offset);
        // Nothing of the refused chunk was kept: the right chunk at the same offset is accepted and the file completes.
        Assert.Equal(UploadStatus.Completed, (await kit.SendAsync(id, token, bytes, Chunk, bytes.Length)).Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_offset_gets_409_with_the_current_offset()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(3 * Chunk);
        var (id, token, _) = Upload(await InitAsync(device, bytes));
        await kit.SendAsync(id, token, bytes, 0, Chunk);
        foreach (long offset in new long[] { 0, 2 * Chunk, Chunk - 1 })
        {
            var answer = await kit.Uploads.PatchAsync(id, token, offset, bytes.AsMemory((int)offset, 10), null, CancellationToken.None);
            Assert.Equal((UploadStatus.WrongOffset, (long)Chunk), (answer.Status, answer.Offset));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_whole_file_mismatch_gets_460_deletes_the_upload_and_stores_nothing()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, device) = await kit.UserAsync();
        var bytes = RandomBytes(2 * Chunk + 5);
        var declared = Sha(RandomBytes(16)); // a sha256 of other bytes
        var (id, token, _) = Upload(await InitAsync(device, bytes, sha: declared));
        await kit.SendAsync(id, token, bytes, 0, 2 * Chunk);
        var last = await kit.Uploads.PatchAsync(id, token, 2 * Chunk, bytes.AsMemory(2 * Chunk), null, CancellationToken.None);
        Assert.Equal(UploadStatus.FileChecksumMismatch, last.Status);
        Assert.Equal(UploadStatus.NotFound, (await kit.Uploads.HeadAsync(id, token, CancellationToken.None)).Status);
        Assert.Equal(0, kit.StoredContents());
        Assert.Empty(kit.Chat.Features.FileStore.StagedUploads());
        // A new init of that (wrong) declaration starts from zero.
        Assert.Equal(0, Upload(await InitAsync(device, bytes, sha: declared)).Offset);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_size_cap_admits_exactly_max_bytes_and_refuses_one_more()
    {
        const int Cap = 3 * Chunk;
        await using var kit = await FileKit.StartAsync(maxBytes: Cap);
        var (_, device) = await kit.UserAsync();
        var exact = RandomBytes(Cap);
        var (id, token, _) = Upload(await InitAsync(device, exact));
        Assert.Equal(UploadStatus.Completed, (await kit.SendAsync(id, token, exact, 0, Cap)).Status);

        var over = await device.FileUploadInitAsync("big.bin", Cap + 1, Sha(RandomBytes(Cap + 1)));
        Assert.Equal(ErrorCodes.InvalidArgument, over.Code);
        Assert.StartsWith("size:", over.Message);
        // A PATCH cannot pass the declared length either.
        var small = RandomBytes(100);
        var (id2, token2, _) = Upload(await InitAsync(device, small));
        var tooLong = await kit.Uploads.PatchAsync(id2, token2, 0, RandomBytes(101), null, CancellationToken.None);
        Assert.Equal(UploadStatus.TooLarge, tooLong.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task Bad_names_and_hashes_are_refused_naming_the_field()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, device) = await kit.UserAsync();
        string sha = Sha([1]);
        Assert.StartsWith("name:", (await device.FileUploadInitAsync("a/b", 1, sha)).Message);
        Assert.StartsWith("name:", (await device.FileUploadInitAsync("a\0b", 1, sha)).Message);
        Assert.StartsWith("name:", (await device.FileUploadInitAsync(new string('x', 256), 1, sha)).Message);
        Assert.StartsWith("sha256:", (await device.FileUploadInitAsync("a", 1, "xyz")).Message);
        Assert.StartsWith("size:", (await device.FileUploadInitAsync("a", 0, sha)).Message);
        Assert.Equal(ErrorCodes.InvalidArgument, (await device.FileUploadInitAsync("a", 1, sha, "not a mime")).Code);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_token_of_another_upload_or_user_or_a_forged_one_is_refused()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, alice) = await kit.UserAsync();
        var (_, bob) = await kit.UserAsync();
        var a = Upload(await InitAsync(alice, RandomBytes(100)));
        var b = Upload(await InitAsync(bob, RandomBytes(100)));
        Assert.Equal(UploadStatus.Unauthorized, (await kit.Uploads.HeadAsync(a.UploadId, b.Token, CancellationToken.None)).Status);
        Assert.Equal(UploadStatus.Unauthorized, (await kit.Uploads.HeadAsync(a.UploadId, a.Token + "x", CancellationToken.None)).Status);
        Assert.Equal(UploadStatus.Unauthorized, (await kit.Uploads.HeadAsync(a.UploadId, null, CancellationToken.None)).Status);
        var forged = new SignedTokens("another key").UploadToken(new UploadClaims(a.UploadId, 1, 100, long.MaxValue / 2));
        Assert.Equal(UploadStatus.Unauthorized, (await kit.Uploads.PatchAsync(a.UploadId, forged, 0, RandomBytes(1), null, CancellationToken.None)).Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task Open_uploads_per_user_are_bounded_and_so_are_bytes_per_day()
    {
        await using var kit = await FileKit.StartAsync(maxOpenUploads: 2, maxBytesPerDay: 1000);
        var (_, device) = await kit.UserAsync();
        Upload(await InitAsync(device, RandomBytes(300)));
        Upload(await InitAsync(device, RandomBytes(300)));
        var third = await device.FileUploadInitAsync("c", 300, Sha(RandomBytes(300)));
        Assert.Equal(ErrorCodes.RateLimited, third.Code);
        Assert.True(third.Data!.Value.GetProperty("retry_after_ms").GetInt64() > 0);

        var (_, other) = await kit.UserAsync();
        Upload(await InitAsync(other, RandomBytes(600)));
        var over = await other.FileUploadInitAsync("d", 401, Sha(RandomBytes(401)));
        Assert.Equal(ErrorCodes.RateLimited, over.Code);
        Upload(await InitAsync(other, RandomBytes(400))); // exactly the budget
    }

    [Fact(Timeout = 60_000)]
    public async Task Get_file_url_answers_the_uploader_and_not_found_to_a_stranger_or_an_unknown_id()
    {
        await using var kit = await FileKit.StartAsync();
        var (_, alice) = await kit.UserAsync();
        var (_, stranger) = await kit.UserAsync();
        var bytes = RandomBytes(1000);
        var (id, token, _) = Upload(await InitAsync(alice, bytes));
        long fileId = (await kit.SendAsync(id, token, bytes, 0, bytes.Length)).FileId;

        var url = await Ok(alice.GetFileUrlAsync(fileId));
        Assert.StartsWith($"http://127.0.0.1:1/files/d/{fileId}?e=", url.GetProperty("url").GetString());
        Assert.True(url.GetProperty("expires_at").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var refused = await stranger.GetFileUrlAsync(fileId);
        var unknown = await stranger.GetFileUrlAsync(fileId + 1000);
        Assert.Equal(ErrorCodes.NotFound, refused.Code);
        // Never a hint that the file exists: the stranger's answer is the unknown id's, word for word.
        Assert.Equal((unknown.Code, unknown.Message), (refused.Code, refused.Message));
    }
}
