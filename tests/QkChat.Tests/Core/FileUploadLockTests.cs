using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Files;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>
/// FileUploads serialises the requests of one upload with a lock per upload id. The map of those locks must not keep
/// an entry per upload ever seen: once an upload completes, or expires and is swept, no entry is left (issue 21).
/// The catalog and store are in-memory stand-ins of the ports (MySqlFileCatalog and LocalFileStore have their
/// integration tests); what is under test is FileUploads' own bookkeeping.
/// </summary>
public sealed class FileUploadLockTests
{
    private const int Chunk = 1024;
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact(Timeout = 60_000)]
    public async Task The_lock_map_is_empty_after_an_upload_completes()
    {
        var rig = new Rig();
        byte[] bytes = RandomNumberGenerator.GetBytes(3 * Chunk + 100);
        var (id, token) = rig.Begin(bytes);

        Assert.Equal(UploadStatus.Ok, (await rig.Uploads.HeadAsync(id, token, CancellationToken.None)).Status);
        UploadAnswer last = default;
        for (int at = 0; at < bytes.Length; at += Chunk)
        {
            var chunk = bytes.AsMemory(at, Math.Min(Chunk, bytes.Length - at));
            last = await rig.Uploads.PatchAsync(id, token, at, chunk, SHA256.HashData(chunk.Span), CancellationToken.None);
        }
        Assert.Equal(UploadStatus.Completed, last.Status);
        Assert.Equal(0, rig.Uploads.LockCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_lock_map_is_empty_after_concurrent_requests_and_after_an_upload_expires()
    {
        var rig = new Rig();
        byte[] bytes = RandomNumberGenerator.GetBytes(2 * Chunk);
        var (id, token) = rig.Begin(bytes);

        // Requests of one upload racing: they take turns, and none of them leaves an entry behind.
        var heads = Enumerable.Range(0, 16).Select(_ => Task.Run(() => rig.Uploads.HeadAsync(id, token, CancellationToken.None))).ToArray();
        var chunk = bytes.AsMemory(0, Chunk);
        var patch = rig.Uploads.PatchAsync(id, token, 0, chunk, SHA256.HashData(chunk.Span), CancellationToken.None);
        await Task.WhenAll(heads);
        Assert.Equal(UploadStatus.Ok, (await patch).Status);
        Assert.Equal(0, rig.Uploads.LockCount);

        // A bad request (wrong offset) leaves none either.
        Assert.Equal(UploadStatus.WrongOffset, (await rig.Uploads.PatchAsync(id, token, 5, chunk, null, CancellationToken.None)).Status);
        Assert.Equal(0, rig.Uploads.LockCount);

        // The upload is abandoned half way and swept 24 h later: nothing of it remains.
        rig.Clock.SetUtcNow(Start.Add(FileTransferOptions.UploadLifetime));
        var sweeper = new FileSweeper(rig.Store, rig.Catalog, NullLogger.Instance, rig.Clock, rig.Uploads);
        Assert.Equal(1, (await sweeper.SweepAsync(CancellationToken.None)).Uploads);
        Assert.Equal(0, rig.Uploads.LockCount);
        Assert.Empty(rig.Store.StagedUploads());
    }

    private sealed class Rig
    {
        public ManualClock Clock { get; } = new(Start);
        public UploadCatalog Catalog { get; } = new();
        public UploadStore Store { get; } = new();
        public FileUploads Uploads { get; }
        private readonly SignedTokens _tokens = new("lock test");

        public Rig() =>
            Uploads = new FileUploads(new FileTransferOptions { ChunkBytes = Chunk }, Store, Catalog, _tokens, NullLogger.Instance, Clock);

        public (long Id, string Token) Begin(byte[] bytes)
        {
            long expires = Start.Add(FileTransferOptions.UploadLifetime).ToUnixTimeMilliseconds();
            var upload = new UploadInfo(7, 42, new ContentKey(SHA256.HashData(bytes), bytes.Length), "f.bin", "application/octet-stream", 0, expires);
            Catalog.Uploads[upload.UploadId] = upload;
            return (upload.UploadId, _tokens.UploadToken(new UploadClaims(upload.UploadId, upload.UserId, bytes.Length, expires)));
        }
    }

    /// <summary>Upload rows in memory, with the port's rules for offsets and completion.</summary>
    private sealed class UploadCatalog : IFileCatalog
    {
        private readonly Lock _lock = new();
        public readonly Dictionary<long, UploadInfo> Uploads = [];
        private long _nextFile = 100;

        public Task<UploadInfo?> UploadAsync(long uploadId, uint userId, CancellationToken ct)
        {
            lock (_lock) return Task.FromResult(Uploads.TryGetValue(uploadId, out var u) && u.UserId == userId ? u : null);
        }

        public Task<bool> AdvanceAsync(long uploadId, long expected, long offset, CancellationToken ct)
        {
            lock (_lock)
            {
                if (!Uploads.TryGetValue(uploadId, out var u) || u.Offset != expected || offset <= expected) return Task.FromResult(false);
                Uploads[uploadId] = u with { Offset = offset };
                return Task.FromResult(true);
            }
        }

        public Task<bool> RewindAsync(long uploadId, long expected, long offset, CancellationToken ct)
        {
            lock (_lock)
            {
                if (!Uploads.TryGetValue(uploadId, out var u) || u.Offset != expected || offset >= expected) return Task.FromResult(false);
                Uploads[uploadId] = u with { Offset = offset };
                return Task.FromResult(true);
            }
        }

        public async Task<StoredFile> CompleteAsync(UploadInfo upload, long now, Func<CancellationToken, Task> commitBytes, CancellationToken ct)
        {
            await commitBytes(ct);
            lock (_lock)
            {
                Uploads.Remove(upload.UploadId);
                return new StoredFile(++_nextFile, upload.UserId, upload.Content, upload.Name, upload.Mime, now);
            }
        }

        public Task DeleteUploadAsync(long uploadId, CancellationToken ct)
        {
            lock (_lock) Uploads.Remove(uploadId);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<long>> ExpiredUploadsAsync(long now, int limit, CancellationToken ct)
        {
            lock (_lock) return Task.FromResult<IReadOnlyList<long>>(Uploads.Values.Where(u => u.ExpiresAt <= now).Select(u => u.UploadId).Take(limit).ToList());
        }

        public Task<IReadOnlySet<long>> KnownUploadsAsync(IReadOnlyList<long> uploadIds, CancellationToken ct)
        {
            lock (_lock) return Task.FromResult<IReadOnlySet<long>>(uploadIds.Where(Uploads.ContainsKey).ToHashSet());
        }

        public Task<(int Files, int Contents)> SweepUnreferencedAsync(long createdBefore, int limit, Func<ContentKey, CancellationToken, Task> deleteBytes,
            CancellationToken ct) => Task.FromResult((0, 0));

        public Task<int> DeleteUnknownContentsAsync(IReadOnlyList<ContentKey> keys, Func<ContentKey, CancellationToken, Task> deleteBytes,
            CancellationToken ct) => Task.FromResult(0);

        public Task<InitOutcome> InitAsync(InitRequest request, Func<ContentKey, CancellationToken, Task<bool>> storedWhole, CancellationToken ct) =>
            throw new NotSupportedException();
        public Task<StoredFile?> VisibleAsync(long fileId, uint userId, CancellationToken ct) => throw new NotSupportedException();
        public Task<StoredFile?> FindAsync(long fileId, CancellationToken ct) => throw new NotSupportedException();
    }

    /// <summary>Staged uploads and contents as byte arrays.</summary>
    private sealed class UploadStore : IFileStore
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<long, List<byte>> _staged = [];
        private readonly HashSet<ContentKey> _contents = [];

        public Task<long> OpenUploadAsync(long uploadId, long committed, CancellationToken ct)
        {
            lock (_lock)
            {
                var bytes = _staged.TryGetValue(uploadId, out var b) ? b : _staged[uploadId] = [];
                if (bytes.Count > committed) bytes.RemoveRange((int)committed, bytes.Count - (int)committed);
                return Task.FromResult((long)bytes.Count);
            }
        }

        public Task<long> AppendAsync(long uploadId, long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct)
        {
            lock (_lock)
            {
                var bytes = _staged[uploadId];
                if (bytes.Count != offset) throw new InvalidOperationException("append not at the end");
                bytes.AddRange(chunk.ToArray());
                return Task.FromResult((long)bytes.Count);
            }
        }

        public Task<byte[]> HashUploadAsync(long uploadId, CancellationToken ct)
        {
            lock (_lock) return Task.FromResult(SHA256.HashData(_staged[uploadId].ToArray()));
        }

        public Task CommitAsync(long uploadId, ContentKey key, CancellationToken ct)
        {
            lock (_lock)
            {
                _staged.Remove(uploadId);
                _contents.Add(key);
            }
            return Task.CompletedTask;
        }

        public Task AbortUploadAsync(long uploadId, CancellationToken ct)
        {
            lock (_lock) _staged.Remove(uploadId);
            return Task.CompletedTask;
        }

        public IReadOnlyList<ContentKey> ContentsWrittenBefore(long before) => [];
        public int DeleteStrays(long before) => 0;

        public IReadOnlyList<long> StagedUploads()
        {
            lock (_lock) return _staged.Keys.ToList();
        }

        public Task<bool> IsStoredWholeAsync(ContentKey key, CancellationToken ct)
        {
            lock (_lock) return Task.FromResult(_contents.Contains(key));
        }

        public Task<Stream?> OpenReadAsync(ContentKey key, long offset, CancellationToken ct) => throw new NotSupportedException();
        public Task DeleteAsync(ContentKey key, CancellationToken ct) => throw new NotSupportedException();
    }
}
