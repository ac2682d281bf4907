using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Files;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// The sweeper's rules with the clock set by hand: uploads past their expiry go (row and staged bytes), files are
/// judged 24 h after their upload, staged leftovers MariaDB does not know go. The catalog here is an in-memory
/// stand-in of the port that applies the same rules to rows; MySqlFileCatalog's SQL has its integration test.
/// </summary>
public sealed class FileSweeperTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
    private const long Hour = 3_600_000;

    [Fact(Timeout = 60_000)]
    public async Task Uploads_expire_at_their_expiry_and_unreferenced_files_24_hours_after_upload()
    {
        var clock = new ManualClock(Start);
        long t0 = Start.ToUnixTimeMilliseconds();
        var catalog = new MemoryCatalog();
        var store = new MemoryStore();
        catalog.Uploads[1] = t0 + 24 * Hour;
        catalog.Uploads[2] = t0 + 30 * Hour;
        store.Staged.AddRange([1, 2, 99]); // 99: a staging area whose row is gone (a crash between the two deletes)
        var referenced = Key(1);
        var loose = Key(2);
        catalog.Files.Add((10, loose, t0, Referenced: false));
        catalog.Files.Add((11, referenced, t0, Referenced: true));
        store.Contents.AddRange([loose, referenced]);
        catalog.Blobs.AddRange([loose, referenced]);
        var sweeper = new FileSweeper(store, catalog, NullLogger.Instance, clock);

        // 23 h 59 min in: nothing has expired; only the leftover staging area goes.
        clock.SetUtcNow(Start.AddHours(24).AddMinutes(-1));
        Assert.Equal(new SweepResult(0, 0, 0, 1), await sweeper.SweepAsync(CancellationToken.None));
        Assert.Equal([1L, 2], store.Staged);

        // 24 h: upload 1 expires (row and bytes); the unreferenced file is 24 h old and goes with its content.
        clock.SetUtcNow(Start.AddHours(24));
        Assert.Equal(new SweepResult(1, 1, 1, 0), await sweeper.SweepAsync(CancellationToken.None));
        Assert.Equal([2L], store.Staged);
        Assert.Equal([2L], catalog.Uploads.Keys);
        Assert.Equal([referenced], store.Contents);
        Assert.Equal([11L], catalog.Files.Select(f => f.Id));

        clock.SetUtcNow(Start.AddHours(30));
        Assert.Equal(new SweepResult(1, 0, 0, 0), await sweeper.SweepAsync(CancellationToken.None));
        Assert.Empty(store.Staged);
        Assert.Equal([referenced], store.Contents);
    }

    private static ContentKey Key(byte b)
    {
        var sha = new byte[32];
        sha[0] = b;
        return new ContentKey(sha, 100 + b);
    }

    private sealed class MemoryCatalog : IFileCatalog
    {
        public readonly SortedDictionary<long, long> Uploads = []; // upload id -> expires_at
        public readonly List<(long Id, ContentKey Content, long CreatedAt, bool Referenced)> Files = [];
        public readonly List<ContentKey> Blobs = [];

        public Task<IReadOnlyList<long>> ExpiredUploadsAsync(long now, int limit, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<long>>(Uploads.Where(u => u.Value <= now).Select(u => u.Key).Take(limit).ToList());

        public Task DeleteUploadAsync(long uploadId, CancellationToken ct)
        {
            Uploads.Remove(uploadId);
            return Task.CompletedTask;
        }

        public Task<IReadOnlySet<long>> KnownUploadsAsync(IReadOnlyList<long> uploadIds, CancellationToken ct) =>
            Task.FromResult<IReadOnlySet<long>>(uploadIds.Where(Uploads.ContainsKey).ToHashSet());

        public async Task<(int Files, int Contents)> SweepUnreferencedAsync(long createdBefore, int limit, Func<ContentKey, CancellationToken, Task> deleteBytes,
            CancellationToken ct)
        {
            int files = Files.RemoveAll(f => !f.Referenced && f.CreatedAt <= createdBefore);
            int contents = 0;
            foreach (var key in Blobs.Where(b => !Files.Any(f => f.Content.Equals(b))).ToList())
            {
                await deleteBytes(key, ct);
                Blobs.Remove(key);
                contents++;
            }
            return (files, contents);
        }

        public Task<int> DeleteUnknownContentsAsync(IReadOnlyList<ContentKey> keys, Func<ContentKey, CancellationToken, Task> deleteBytes,
            CancellationToken ct) => Task.FromResult(0);

        public Task<InitOutcome> InitAsync(InitRequest request, Func<ContentKey, CancellationToken, Task<bool>> storedWhole, CancellationToken ct) =>
            throw new NotSupportedException();
        public Task<UploadInfo?> UploadAsync(long uploadId, uint userId, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> AdvanceAsync(long uploadId, long expected, long offset, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> RewindAsync(long uploadId, long expected, long offset, CancellationToken ct) => throw new NotSupportedException();
        public Task<StoredFile> CompleteAsync(UploadInfo upload, long now, Func<CancellationToken, Task> commitBytes, CancellationToken ct) =>
            throw new NotSupportedException();
        public Task<StoredFile?> VisibleAsync(long fileId, uint userId, CancellationToken ct) => throw new NotSupportedException();
        public Task<StoredFile?> FindAsync(long fileId, CancellationToken ct) => throw new NotSupportedException();
    }

    private sealed class MemoryStore : IFileStore
    {
        public readonly List<long> Staged = [];
        public readonly List<ContentKey> Contents = [];

        public Task AbortUploadAsync(long uploadId, CancellationToken ct)
        {
            Staged.Remove(uploadId);
            return Task.CompletedTask;
        }

        public Task DeleteAsync(ContentKey key, CancellationToken ct)
        {
            Contents.Remove(key);
            return Task.CompletedTask;
        }

        public IReadOnlyList<ContentKey> ContentsWrittenBefore(long before) => [];
        public int DeleteStrays(long before) => 0;

        public IReadOnlyList<long> StagedUploads() => Staged.ToList();
        public Task<long> OpenUploadAsync(long uploadId, long committed, CancellationToken ct) => throw new NotSupportedException();
        public Task<long> AppendAsync(long uploadId, long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct) => throw new NotSupportedException();
        public Task<byte[]> HashUploadAsync(long uploadId, CancellationToken ct) => throw new NotSupportedException();
        public Task CommitAsync(long uploadId, ContentKey key, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> IsStoredWholeAsync(ContentKey key, CancellationToken ct) => throw new NotSupportedException();
        public Task<Stream?> OpenReadAsync(ContentKey key, long offset, CancellationToken ct) => throw new NotSupportedException();
    }
}
