using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using QkChat.Core.Files;

namespace QkChat.Server.Files;

/// <summary>
/// The file store in a local directory (files.dir; docs/files.md, "The local store"): contents under
/// `content/ab/cd/<sha256 hex>-<size>` (two levels of 256 fan-out keep directories small), uploads staged as
/// `staging/<upload id>.part`. Appends are written at the durable end and fsynced before they count; a commit fsyncs
/// the staged file, renames it into place (atomic on one file system) and fsyncs the directory, so a content file
/// either is whole or is not there. Callers run on HTTP or thread-pool threads, never on a reactor; the blocking
/// work (writes, fsyncs, re-reads) runs on <see cref="FileIoThreads"/>, never on the thread pool.
/// </summary>
public sealed partial class LocalFileStore : IFileStore
{
    private const string PartSuffix = ".part";

    /// <summary>
    /// The read size of a whole-file hash that must re-read the staged file (after a restart): 1 MiB reads keep the
    /// syscalls few (100 per 100 MiB) and the buffer out of the way of the 8 MiB chunks.
    /// </summary>
    private const int HashReadBytes = 1 << 20;

    /// <summary>The read buffer of a download's stream (1 MiB: 100 reads per 100 MiB, not 1,600).</summary>
    private const int ReadBufferBytes = 1 << 20;

    private readonly string _content, _staging;

    public LocalFileStore(string dir)
    {
        Root = Path.GetFullPath(dir);
        _content = Path.Combine(Root, "content");
        _staging = Path.Combine(Root, "staging");
    }

    // Made at the first upload, not at start: a server (or test) that never stores a file leaves no directory behind.
    private void EnsureStaging()
    {
        if (Directory.Exists(_staging)) return;
        Directory.CreateDirectory(_staging);
        Directory.CreateDirectory(_content);
    }

    public string Root { get; }

    public string ContentPath(ContentKey key)
    {
        string hex = key.Hex;
        return Path.Combine(_content, hex[..2], hex[2..4], string.Create(CultureInfo.InvariantCulture, $"{hex}-{key.Size}"));
    }

    private string StagingPath(long uploadId) => Path.Combine(_staging, uploadId.ToString(CultureInfo.InvariantCulture) + PartSuffix);

    public Task<long> OpenUploadAsync(long uploadId, long committed, CancellationToken ct)
    {
        EnsureStaging();
        string path = StagingPath(uploadId);
        bool created = !File.Exists(path);
        using var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        if (created) DirectorySync.Flush(_staging);
        long length = RandomAccess.GetLength(handle);
        if (length > committed)
        {
            // Bytes of a chunk whose append was cut off before MariaDB recorded it: never acknowledged, so dropped.
            RandomAccess.SetLength(handle, committed);
            RandomAccess.FlushToDisk(handle);
            length = committed;
            DropRunning(uploadId);
        }
        return Task.FromResult(length);
    }

    public Task<long> AppendAsync(long uploadId, long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct) =>
        FileIoThreads.Shared.RunAsync(() => Append(uploadId, offset, chunk));

    private long Append(long uploadId, long offset, ReadOnlyMemory<byte> chunk)
    {
        using var handle = File.OpenHandle(StagingPath(uploadId), FileMode.Open, FileAccess.Write);
        if (RandomAccess.GetLength(handle) != offset) throw new InvalidOperationException($"upload {uploadId}: append at {offset} is not at the durable end");
        var running = TakeRunning(uploadId, offset, File.GetLastWriteTimeUtc(handle));
        try
        {
            RandomAccess.Write(handle, chunk.Span, offset);
            RandomAccess.FlushToDisk(handle);
        }
        catch
        {
            running?.Dispose();
            throw;
        }
        if (running is null && offset == 0) running = new RunningHash();
        if (running is not null)
        {
            running.Hash.AppendData(chunk.Span);
            running.Length = offset + chunk.Length;
            running.WrittenAt = File.GetLastWriteTimeUtc(handle);
            PutRunning(uploadId, running);
        }
        return offset + chunk.Length;
    }

    public Task<byte[]> HashUploadAsync(long uploadId, CancellationToken ct) => FileIoThreads.Shared.RunAsync(() => HashUpload(uploadId));

    private byte[] HashUpload(long uploadId)
    {
        using var handle = File.OpenHandle(StagingPath(uploadId), FileMode.Open, FileAccess.Read);
        long length = RandomAccess.GetLength(handle);
        if (RunningDigest(uploadId, length, File.GetLastWriteTimeUtc(handle)) is { } carried) return carried;
        // No hash carried over every byte (the server restarted, or the upload began on another node): read them back.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(HashReadBytes);
        try
        {
            for (long at = 0; at < length;)
            {
                int read = RandomAccess.Read(handle, buffer.AsSpan(0, HashReadBytes), at);
                if (read == 0) break;
                hash.AppendData(buffer, 0, read);
                at += read;
                Interlocked.Add(ref _reReadBytes, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hash.GetHashAndReset();
    }

    public Task CommitAsync(long uploadId, ContentKey key, CancellationToken ct)
    {
        DropRunning(uploadId);
        return FileIoThreads.Shared.RunAsync(() => Commit(uploadId, key));
    }

    private bool Commit(long uploadId, ContentKey key)
    {
        string staged = StagingPath(uploadId), target = ContentPath(key);
        if (IsWhole(target, key))
        {
            // The same bytes are stored already (another upload finished first): kept once.
            File.Delete(staged);
            return false;
        }
        string dir = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(dir);
        using (var handle = File.OpenHandle(staged, FileMode.Open, FileAccess.ReadWrite)) RandomAccess.FlushToDisk(handle);
        // Overwrite: a content file of the wrong length under this key (docs/files.md, "Lost or damaged content") is
        // replaced by the checked bytes; rename(2) swaps it atomically, so a reader has the old file or the new one.
        File.Move(staged, target, overwrite: true);
        DirectorySync.Flush(dir);
        DirectorySync.Flush(_staging);
        return true;
    }

    public Task AbortUploadAsync(long uploadId, CancellationToken ct)
    {
        DropRunning(uploadId);
        if (Directory.Exists(_staging)) File.Delete(StagingPath(uploadId));
        return Task.CompletedTask;
    }

    public Task<bool> IsStoredWholeAsync(ContentKey key, CancellationToken ct) => Task.FromResult(IsWhole(ContentPath(key), key));

    private static bool IsWhole(string path, ContentKey key)
    {
        var file = new FileInfo(path);
        return file.Exists && file.Length == key.Size;
    }

    public Task<Stream?> OpenReadAsync(ContentKey key, long offset, CancellationToken ct)
    {
        FileStream stream;
        try
        {
            // A 1 MiB buffer: the framework's copy reads 64 KiB at a time, and each unbuffered read was a hop to the
            // thread pool and a syscall; buffered, 15 of 16 reads are a copy from memory (docs/files.md, "Throughput").
            stream = new FileStream(ContentPath(key), FileMode.Open, FileAccess.Read, FileShare.Read, ReadBufferBytes, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        stream.Position = offset;
        return Task.FromResult<Stream?>(stream);
    }

    public Task DeleteAsync(ContentKey key, CancellationToken ct)
    {
        string path = ContentPath(key);
        if (Directory.Exists(Path.GetDirectoryName(path))) File.Delete(path);
        return Task.CompletedTask;
    }

    public IReadOnlyList<long> StagedUploads()
    {
        var ids = new List<long>();
        if (!Directory.Exists(_staging)) return ids;
        foreach (string path in Directory.EnumerateFiles(_staging, "*" + PartSuffix))
            if (StagedId(path) is { } id) ids.Add(id);
        return ids;
    }

    public IReadOnlyList<ContentKey> ContentsWrittenBefore(long before)
    {
        var keys = new List<ContentKey>();
        if (!Directory.Exists(_content)) return keys;
        foreach (var file in new DirectoryInfo(_content).EnumerateFiles("*", SearchOption.AllDirectories))
            if (ContentKeyOf(file.FullName) is { } key && ToUnixMs(file.LastWriteTimeUtc) < before) keys.Add(key);
        return keys;
    }

    public int DeleteStrays(long before)
    {
        int deleted = 0;
        foreach (string area in new[] { _staging, _content })
        {
            if (!Directory.Exists(area)) continue;
            foreach (var file in new DirectoryInfo(area).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                bool known = area == _staging ? StagedId(file.FullName) is not null : ContentKeyOf(file.FullName) is not null;
                if (known || ToUnixMs(file.LastWriteTimeUtc) >= before) continue;
                try
                {
                    file.Delete();
                    deleted++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone meanwhile, or not ours to delete: the next sweep tries again.
                }
            }
        }
        return deleted;
    }

    private static long ToUnixMs(DateTime utc) => new DateTimeOffset(utc, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>The content a path names, if it is exactly where <see cref="ContentPath"/> puts one; else null (a stray).</summary>
    private ContentKey? ContentKeyOf(string path)
    {
        string name = Path.GetFileName(path);
        int dash = name.IndexOf('-');
        if (dash != 64 || !long.TryParse(name.AsSpan(65), NumberStyles.None, CultureInfo.InvariantCulture, out long size)) return null;
        string hex = name[..64];
        if (!hex.All(char.IsAsciiHexDigitLower)) return null;
        var key = ContentKey.FromHex(hex, size);
        return string.Equals(ContentPath(key), Path.GetFullPath(path), StringComparison.Ordinal) ? key : null;
    }

    /// <summary>The upload id of `staging/<id>.part`; null for anything else.</summary>
    private long? StagedId(string path)
    {
        string name = Path.GetFileName(path);
        return Path.GetDirectoryName(Path.GetFullPath(path)) == _staging && name.EndsWith(PartSuffix, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(0, name.Length - PartSuffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : null;
    }

    /// <summary>How many contents are stored (tests: the same bytes uploaded twice are one file).</summary>
    public int ContentCount() => Directory.Exists(_content) ? Directory.EnumerateFiles(_content, "*", SearchOption.AllDirectories).Count() : 0;
}
