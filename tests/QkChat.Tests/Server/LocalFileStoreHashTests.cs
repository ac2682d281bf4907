using System.Security.Cryptography;
using QkChat.Core.Files;
using QkChat.Server.Files;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>
/// LocalFileStore carries an upload's whole-file SHA-256 across its appends, so the check at the last chunk reads
/// nothing back (issue 21, docs/files.md "Throughput"), and falls back to reading the staged bytes whenever the
/// carried hash might not cover exactly them: after a trim (a crash's tail), after a write it did not make, and after
/// a restart (a new store). Whatever path it takes, the digest is that of the bytes on disk.
/// </summary>
public sealed class LocalFileStoreHashTests : IDisposable
{
    private const int Chunk = 64 * 1024;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qkchat-hash-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_whole_file_hash_is_carried_across_appends_without_reading_the_file_back()
    {
        var store = new LocalFileStore(_dir);
        byte[] bytes = RandomNumberGenerator.GetBytes(3 * Chunk + 100);
        await AppendAllAsync(store, 1, bytes, from: 0);

        Assert.Equal(SHA256.HashData(bytes), await store.HashUploadAsync(1, CancellationToken.None));
        Assert.Equal(0, store.ReReadBytes);

        await store.CommitAsync(1, new ContentKey(SHA256.HashData(bytes), bytes.Length), CancellationToken.None);
        Assert.Equal(0, store.RunningCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task After_a_trim_the_hash_is_of_the_bytes_appended_again()
    {
        var store = new LocalFileStore(_dir);
        byte[] first = RandomNumberGenerator.GetBytes(3 * Chunk);
        await AppendAllAsync(store, 2, first, from: 0);
        // A crash's tail: MariaDB recorded one chunk, the next request trims the rest; other bytes are sent after it.
        Assert.Equal(Chunk, await store.OpenUploadAsync(2, Chunk, CancellationToken.None));
        byte[] expected = [.. first.AsSpan(0, Chunk), .. RandomNumberGenerator.GetBytes(2 * Chunk)];
        await AppendAllAsync(store, 2, expected, from: Chunk);

        Assert.Equal(SHA256.HashData(expected), await store.HashUploadAsync(2, CancellationToken.None));
        Assert.Equal(expected.Length, store.ReReadBytes);
    }

    [Fact(Timeout = 60_000)]
    public async Task Bytes_changed_behind_the_store_are_hashed_from_disk()
    {
        var store = new LocalFileStore(_dir);
        byte[] bytes = RandomNumberGenerator.GetBytes(2 * Chunk);
        await AppendAllAsync(store, 3, bytes, from: 0);
        // Another writer (a second node on a shared directory) rewrites a byte in place: same length, a later time
        // (set explicitly: the kernel's file clock is coarse, two writes in one tick could share a time).
        string staged = Path.Combine(_dir, "staging", "3.part");
        var writtenAt = File.GetLastWriteTimeUtc(staged);
        bytes[5] ^= 0xff;
        await using (var f = new FileStream(staged, FileMode.Open, FileAccess.Write))
        {
            f.Position = 5;
            f.WriteByte(bytes[5]);
        }
        File.SetLastWriteTimeUtc(staged, writtenAt.AddSeconds(1));

        Assert.Equal(SHA256.HashData(bytes), await store.HashUploadAsync(3, CancellationToken.None));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_restarted_store_reads_the_staged_bytes_back()
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(2 * Chunk + 7);
        await AppendAllAsync(new LocalFileStore(_dir), 4, bytes, from: 0);
        var restarted = new LocalFileStore(_dir);
        Assert.Equal(bytes.Length, await restarted.OpenUploadAsync(4, bytes.Length, CancellationToken.None));

        Assert.Equal(SHA256.HashData(bytes), await restarted.HashUploadAsync(4, CancellationToken.None));
        Assert.Equal(bytes.Length, restarted.ReReadBytes);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_aborted_upload_leaves_no_running_hash()
    {
        var store = new LocalFileStore(_dir);
        await AppendAllAsync(store, 5, RandomNumberGenerator.GetBytes(Chunk), from: 0);
        Assert.Equal(1, store.RunningCount);
        await store.AbortUploadAsync(5, CancellationToken.None);
        Assert.Equal(0, store.RunningCount);
    }

    private static async Task AppendAllAsync(LocalFileStore store, long uploadId, byte[] bytes, int from)
    {
        if (from == 0) Assert.Equal(0, await store.OpenUploadAsync(uploadId, 0, CancellationToken.None));
        for (int at = from; at < bytes.Length; at += Chunk)
        {
            int length = Math.Min(Chunk, bytes.Length - at);
            Assert.Equal(at + length, await store.AppendAsync(uploadId, at, bytes.AsMemory(at, length), CancellationToken.None));
        }
    }
}
