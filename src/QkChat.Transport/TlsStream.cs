using System.Buffers;
using System.Net.Security;

namespace QkChat.Transport;

/// <summary>
/// TLS over <see cref="SslStream"/>, which is stream-shaped: reading and writing run as small async loops on the
/// thread pool and post their results to the owning reactor. The read loop does a zero-byte read (no buffer while
/// idle), reads one chunk, posts it and waits for a permit before reading again; the permit is given only when the
/// connection has taken the whole chunk and waits for more. That is the backpressure (and Pause) of TLS connections,
/// and it keeps at most one chunk in flight.
/// </summary>
internal sealed class TlsStream(SslStream ssl) : ConnectionStream
{
    // Matches the plain receive block: a TLS record is at most 16 KiB, typical chat records are far smaller.
    private const int ChunkBytes = 4096;

    private readonly SemaphoreSlim _readPermit = new(0, 1);
    private Connection? _owner;

    // Written by the read loop before it posts ReceiveReady, read by the reactor after taking it (the inbox orders
    // the two); the loop writes again only after the next permit, which the reactor gives once the chunk is taken.
    private byte[]? _chunk;
    private int _chunkLength;
    private int _chunkOffset;
    private bool _ended;
    private bool _readFailed;

    private bool _writeFailed;
    private int _bytesWritten;

    public override bool IsTls => true;

    public override void Start(Connection owner)
    {
        _owner = owner;
        _ = Task.Run(ReadLoopAsync);
    }

    public override bool WaitForInput()
    {
        if (_chunk is not null || _ended || _readFailed) return true; // the rest of a chunk a pause left unread
        if (_readPermit.CurrentCount == 0) _readPermit.Release();
        return false;
    }

    public override int Read(Span<byte> into, out ReadStatus status)
    {
        if (_chunk is null)
        {
            status = _readFailed ? ReadStatus.Failed : _ended ? ReadStatus.End : ReadStatus.WouldBlock;
            return 0;
        }
        int n = Math.Min(into.Length, _chunkLength - _chunkOffset);
        _chunk.AsSpan(_chunkOffset, n).CopyTo(into);
        _chunkOffset += n;
        if (_chunkOffset == _chunkLength)
        {
            ArrayPool<byte>.Shared.Return(_chunk);
            _chunk = null;
        }
        status = ReadStatus.Data;
        return n;
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
                if (n == 0)
                {
                    ArrayPool<byte>.Shared.Return(chunk);
                    _ended = true;
                }
                else
                {
                    _chunk = chunk;
                    _chunkLength = n;
                    _chunkOffset = 0;
                }
                _owner!.Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, _owner));
                if (n == 0) return;
            }
        }
        catch (Exception)
        {
            // Whatever ended the stream (a reset, our own Close, a bad record), the reactor must hear of it: its
            // connection waits for this post to close and recycle.
            _readFailed = true;
            _owner!.Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, _owner));
        }
    }

    /// <summary>Writes the frames in order, then posts the completion to the reactor; always pending.</summary>
    public override bool StartSend(List<OutboundFrame> frames)
    {
        _ = WriteAsync(frames);
        return true;
    }

    private async Task WriteAsync(List<OutboundFrame> frames)
    {
        int written = 0;
        try
        {
            foreach (var frame in frames)
            {
                await ssl.WriteAsync(frame.WireMemory).ConfigureAwait(false);
                written += frame.WireLength;
            }
            await ssl.FlushAsync().ConfigureAwait(false);
            _writeFailed = false;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            _writeFailed = true;
        }
        _bytesWritten = written;
        _owner!.Reactor.Post(new ReactorWork(WorkKind.SendCompleted, _owner));
    }

    public override bool LastSendSucceeded => !_writeFailed;

    public override int LastSendBytes => _bytesWritten;

    // Everything went through SslStream; a TCP half-close under TLS would only truncate the stream.
    public override bool TryShutdownSend() => false;

    public override void Close()
    {
        ssl.Dispose();
        // Wakes a waiting read loop so it sees the disposed stream and ends.
        if (_readPermit.CurrentCount == 0) _readPermit.Release();
    }

    public override void Recycle()
    {
        if (_chunk is null) return;
        ArrayPool<byte>.Shared.Return(_chunk);
        _chunk = null;
    }
}
