using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>
/// Lets <see cref="ChatClient"/> speak protocol.md §11 without a second read loop: the client writes length-prefixed
/// frames as on TCP, and each whole frame leaves as one WebSocket text message; each message received is handed to the
/// client's loop with a length prefix in front, as a TCP server would have framed it. A close frame from the server is
/// the end of the stream (its code stays readable in <see cref="CloseStatus"/>); a binary message is passed on like a
/// text one (the server never sends one).
/// </summary>
internal sealed class WebSocketFramingStream(WebSocket socket, int maxFrameBytes) : Stream
{
    private byte[] _in = [];
    private int _inStart, _inEnd;
    private byte[] _out = [];
    private int _outLength;

    public WebSocketCloseStatus? CloseStatus => socket.CloseStatus;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_inStart == _inEnd && !await ReceiveMessageAsync(cancellationToken).ConfigureAwait(false)) return 0;
        int n = Math.Min(buffer.Length, _inEnd - _inStart);
        _in.AsMemory(_inStart, n).CopyTo(buffer);
        _inStart += n;
        return n;
    }

    /// <summary>One whole message into <see cref="_in"/> behind a length prefix; false at the end (a close frame or EOF).</summary>
    private async Task<bool> ReceiveMessageAsync(CancellationToken ct)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseSent)) return false;
        int length = Framing.HeaderSize;
        while (true)
        {
            if (_in.Length - length < 1024) Grow(length + 4096);
            var result = await socket.ReceiveAsync(_in.AsMemory(length), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return false;
            length += result.Count;
            if (result.EndOfMessage) break;
            // Bound what a server can make us buffer: the client refuses frames above its maximum anyway.
            if (length > maxFrameBytes + Framing.HeaderSize + 4096) throw new IOException($"a WebSocket message above {maxFrameBytes} bytes");
        }
        BinaryPrimitives.WriteUInt32BigEndian(_in, (uint)(length - Framing.HeaderSize));
        _inStart = 0;
        _inEnd = length;
        return true;
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _in.Length * 2));
        _in.AsSpan(0, Math.Min(_in.Length, needed)).CopyTo(bigger);
        if (_in.Length > 0) ArrayPool<byte>.Shared.Return(_in);
        _in = bigger;
    }

    /// <summary>Collects bytes until a whole length-prefixed frame is there, then sends its body as one text message.</summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_out.Length < _outLength + buffer.Length)
        {
            var bigger = new byte[Math.Max(_outLength + buffer.Length, Math.Max(_out.Length * 2, 4096))];
            _out.AsSpan(0, _outLength).CopyTo(bigger);
            _out = bigger;
        }
        buffer.CopyTo(_out.AsMemory(_outLength));
        _outLength += buffer.Length;
        int start = 0;
        while (_outLength - start >= Framing.HeaderSize)
        {
            uint body = BinaryPrimitives.ReadUInt32BigEndian(_out.AsSpan(start));
            if (_outLength - start - Framing.HeaderSize < body) break;
            await socket.SendAsync(_out.AsMemory(start + Framing.HeaderSize, (int)body), WebSocketMessageType.Text, endOfMessage: true, cancellationToken)
                .ConfigureAwait(false);
            start += Framing.HeaderSize + (int)body;
        }
        _out.AsSpan(start, _outLength - start).CopyTo(_out);
        _outLength -= start;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            socket.Abort();
            socket.Dispose();
            if (_in.Length > 0) ArrayPool<byte>.Shared.Return(_in);
            _in = [];
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
}
