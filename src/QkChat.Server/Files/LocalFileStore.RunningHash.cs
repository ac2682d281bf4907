using System.Security.Cryptography;

namespace QkChat.Server.Files;

/// <summary>
/// The whole-file SHA-256 carried across an upload's appends (docs/files.md, "Throughput"): each chunk is added to
/// its upload's running hash as it is written, so the check at the last chunk reads nothing back (it used to re-read
/// and hash the whole staged file, 100 MiB for a 100 MiB upload). The state is in memory only: after a restart, or
/// for an upload whose earlier chunks another node wrote, none covers the staged bytes and the check reads them
/// back as before, so a crash never weakens it. A running hash is used only while it covers exactly the staged
/// file: the length it covers and the file's modification time after its last write must both still hold (a write
/// by anyone else moves the time), and a trim, an abort or a commit drops it.
/// </summary>
public sealed partial class LocalFileStore
{
    // Upload id -> its running hash. An entry is taken out while an append works on it, so only one thread touches it.
    private readonly Dictionary<long, RunningHash> _running = [];
    private long _reReadBytes;

    /// <summary>Bytes read back from staged files to hash them since start (tests: none when the hash was carried).</summary>
    internal long ReReadBytes => Interlocked.Read(ref _reReadBytes);

    /// <summary>Running hashes held now (tests: a finished or aborted upload leaves none).</summary>
    internal int RunningCount
    {
        get
        {
            lock (_running) return _running.Count;
        }
    }

    /// <summary>The running hash of an upload if it covers exactly its first <paramref name="offset"/> staged bytes, taken out of the map.</summary>
    private RunningHash? TakeRunning(long uploadId, long offset, DateTime writtenAt)
    {
        RunningHash? running;
        lock (_running)
        {
            if (!_running.Remove(uploadId, out running)) return null;
        }
        if (running.Length == offset && running.WrittenAt == writtenAt) return running;
        running.Dispose();
        return null;
    }

    private void PutRunning(long uploadId, RunningHash running)
    {
        RunningHash? stale;
        lock (_running)
        {
            _running.Remove(uploadId, out stale);
            _running[uploadId] = running;
        }
        stale?.Dispose();
    }

    /// <summary>The digest of the staged bytes if a running hash covers all <paramref name="length"/> of them; else null.</summary>
    private byte[]? RunningDigest(long uploadId, long length, DateTime writtenAt)
    {
        lock (_running)
        {
            // Left in the map: a commit that fails after the check (MariaDB away) is retried by the next request.
            return _running.TryGetValue(uploadId, out var running) && running.Length == length && running.WrittenAt == writtenAt
                ? running.Hash.GetCurrentHash()
                : null;
        }
    }

    private void DropRunning(long uploadId)
    {
        RunningHash? running;
        lock (_running)
        {
            if (!_running.Remove(uploadId, out running)) return;
        }
        running.Dispose();
    }

    private sealed class RunningHash : IDisposable
    {
        public IncrementalHash Hash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        /// <summary>How many staged bytes, from the start, the hash covers.</summary>
        public long Length { get; set; }

        /// <summary>The staged file's modification time right after the last write the hash covers.</summary>
        public DateTime WrittenAt { get; set; }

        public void Dispose() => Hash.Dispose();
    }
}
