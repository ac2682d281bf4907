using System.Buffers;
using System.Net.Security;

namespace QkChat.Transport;

/// <summary>
/// The TLS side of a connection. SslStream is stream-shaped, so reading and writing run as small async loops on the
/// thread pool and post their results to the owning reactor, which stays the only place connection state changes.
/// Reading waits for a permit from the reactor after every chunk: that is the backpressure (and Pause) of TLS
/// connections, and it keeps at most one chunk in flight.
/// </summary>
internal sealed class TlsChannel(SslStream ssl)
{
    // Matches the plain receive block: a TLS record is at most 16 KiB, typical chat records are far smaller.
    private const int ChunkBytes = 4096;

    private readonly SemaphoreSlim _readPermit = new(0, 1);
    private Connection? _owner;

    /// <summary>The last chunk read (or null with length 0 at end of stream), handed over to the reactor.</summary>
    public byte[]? Chunk { get; private set; }

    public int ChunkLength { get; private set; }

    public bool ReadFailed { get; private set; }

    public bool WriteFailed { get; private set; }

    public int BytesWritten { get; private set; }

    public void Start(Connection owner)
    {
        _owner = owner;
        _ = Task.Run(ReadLoopAsync);
    }

    /// <summary>Lets the read loop fetch the next chunk (called by the reactor when it has consumed the last one).</summary>
    public void PermitRead()
    {
        if (_readPermit.CurrentCount == 0) _readPermit.Release();
    }

    public byte[]? TakeChunk()
    {
        var chunk = Chunk;
        Chunk = null;
        return chunk;
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                await _readPermit.WaitAsync().ConfigureAwait(false);
                // A zero-byte read waits for data without tying a buffer to an idle connection.
                await ssl.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                int n = await ssl.ReadAsync(chunk).ConfigureAwait(false);
                if (n == 0) ArrayPool<byte>.Shared.Return(chunk);
                Chunk = n == 0 ? null : chunk;
                ChunkLength = n;
                _owner!.Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, _owner));
                if (n == 0) return;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
        {
            ReadFailed = true;
            _owner!.Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, _owner));
        }
    }

    /// <summary>Writes the frames in order, then posts the completion to the reactor. The frames stay owned by the connection.</summary>
    public void StartWrite(List<OutboundFrame> frames) => _ = WriteAsync(frames);

    private async Task WriteAsync(List<OutboundFrame> frames)
    {
        int written = 0;
        try
        {
            foreach (var frame in frames)
            {
                await ssl.WriteAsync(frame.Memory).ConfigureAwait(false);
                written += frame.Length;
            }
            await ssl.FlushAsync().ConfigureAwait(false);
            WriteFailed = false;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            WriteFailed = true;
        }
        BytesWritten = written;
        _owner!.Reactor.Post(new ReactorWork(WorkKind.SendCompleted, _owner));
    }

    public void Dispose()
    {
        ssl.Dispose();
        PermitRead(); // wakes a waiting read loop so it sees the disposed stream and ends
    }
}
