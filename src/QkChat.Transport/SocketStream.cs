using System.Net.Sockets;

namespace QkChat.Transport;

/// <summary>
/// A plain TCP socket: a zero-byte receive on pooled event args waits for input without a buffer, reads are
/// synchronous on the non-blocking socket, and a send gathers every frame of the flush into one <c>SendAsync</c>
/// (one frame uses <c>SetBuffer</c> and no list).
/// </summary>
internal sealed class SocketStream(Socket socket) : ConnectionStream
{
    private Connection? _owner;
    private SocketAsyncEventArgs? _receiveArgs;
    private SocketAsyncEventArgs? _sendArgs;
    private List<ArraySegment<byte>>? _segments;

    public override void Start(Connection owner) => _owner = owner;

    public override bool WaitForInput()
    {
        _receiveArgs ??= SocketArgsPool.Rent(_owner!);
        try
        {
            return !socket.ReceiveAsync(_receiveArgs);
        }
        catch (ObjectDisposedException)
        {
            _receiveArgs.SocketError = SocketError.OperationAborted;
            return true;
        }
    }

    public override int Read(Span<byte> into, out ReadStatus status)
    {
        // The zero-byte receive's own outcome: a reset arrives here.
        if (_receiveArgs!.SocketError != SocketError.Success)
        {
            status = ReadStatus.Failed;
            return 0;
        }
        int n;
        SocketError error;
        try
        {
            n = socket.Receive(into, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            status = ReadStatus.Failed;
            return 0;
        }
        status = error switch
        {
            SocketError.Success => n == 0 ? ReadStatus.End : ReadStatus.Data,
            SocketError.WouldBlock => ReadStatus.WouldBlock,
            _ => ReadStatus.Failed,
        };
        return status == ReadStatus.Data ? n : 0;
    }

    public override bool StartSend(List<OutboundFrame> frames)
    {
        var args = _sendArgs ??= SocketArgsPool.Rent(_owner!);
        if (frames.Count == 1)
        {
            args.BufferList = null;
            var wire = frames[0].Wire;
            args.SetBuffer(wire.Array, wire.Offset, wire.Count);
        }
        else
        {
            _segments ??= new List<ArraySegment<byte>>(frames.Count);
            _segments.Clear();
            foreach (var frame in frames) _segments.Add(frame.Wire);
            args.SetBuffer(null, 0, 0);
            args.BufferList = _segments;
        }
        try
        {
            return socket.SendAsync(args);
        }
        catch (ObjectDisposedException)
        {
            args.SocketError = SocketError.OperationAborted;
            return false;
        }
    }

    public override bool LastSendSucceeded => _sendArgs!.SocketError == SocketError.Success;

    public override int LastSendBytes => _sendArgs!.BytesTransferred;

    public override bool TryShutdownSend()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public override void Close()
    {
        try
        {
            socket.Dispose();
        }
        catch (SocketException)
        {
        }
    }

    public override void Recycle()
    {
        _segments?.Clear();
        if (_receiveArgs is not null) { SocketArgsPool.Return(_receiveArgs); _receiveArgs = null; }
        if (_sendArgs is not null) { SocketArgsPool.Return(_sendArgs); _sendArgs = null; }
    }
}
