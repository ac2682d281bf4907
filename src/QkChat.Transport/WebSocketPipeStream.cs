using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace QkChat.Transport;

/// <summary>
/// The byte stream of an upgraded WebSocket: the HTTP server's (Kestrel's) own pipes after the 101 answer. Reading
/// needs no buffer of ours while idle: <c>ReadAsync</c> on the pipe completes when the server has bytes (Kestrel itself
/// waits with a zero-byte socket read), and the bytes are copied into the connection's receive block. Writing copies
/// each frame's body behind a WebSocket header (<see cref="WebSocketCodec.WriteHeader"/>) into the pipe and flushes;
/// both complete on the server's threads and only post to the reactor. Nothing here blocks: TryRead, GetSpan and
/// Advance return at once, and a flush the socket cannot take yet completes later.
/// <see cref="Completion"/> ends once nothing is outstanding after the close, and the HTTP request that carried the
/// upgrade returns then (the server closes the socket after that).
/// <para>
/// Given the connection's socket (a plain listener's upgrade taken before the HTTP layer), sends skip the output pipe
/// and the server's send loop: every frame of a flush is framed into one buffer rented for that send and written with
/// one <c>SendAsync</c> on our pooled event args, as <see cref="SocketStream"/> does on TCP. That pipe, its memory
/// pool blocks and the send loop's async state machine were a third of the WebSocket path's extra CPU per round trip
/// (docs/web.md, "Threads"). The server's send loop then never writes: it only waits on the empty output pipe until
/// the connection ends, so nothing of ours and of its can interleave on the socket.
/// </para>
/// </summary>
internal sealed class WebSocketPipeStream : ConnectionStream
{
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly Socket? _socket;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action _readCompleted;
    private readonly Action _flushCompleted;
    private Connection? _owner;

    private ValueTask<ReadResult> _pendingRead;
    private bool _readOutstanding;
    private ReadResult _current;
    private bool _hasCurrent;
    private bool _readFailed;

    private ValueTask<FlushResult> _pendingFlush;
    private bool _flushOutstanding;
    private bool _sendOk;
    private int _sendBytes;
    private bool _closed;

    // The direct send (with a socket): the event args (pooled, kept for the connection's life as on TCP) and the
    // buffer of the send in flight, rented per send and returned once it has finished, so an idle connection holds none.
    private SocketAsyncEventArgs? _sendArgs;
    private byte[]? _sendBuffer;
    private bool _socketSendOutstanding;

    /// <param name="socket">The upgraded connection's own socket, for direct sends; null: sends go through <paramref name="writer"/>.</param>
    public WebSocketPipeStream(PipeReader reader, PipeWriter writer, Socket? socket = null)
    {
        _reader = reader;
        _writer = writer;
        _socket = socket;
        _readCompleted = () => _owner!.Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, _owner));
        _flushCompleted = () => _owner!.Reactor.Post(new ReactorWork(WorkKind.SendCompleted, _owner));
    }

    public override ListenerKind Listener => ListenerKind.WebSocket;

    /// <summary>Ends when the connection is closed and no pipe operation is outstanding.</summary>
    public Task Completion => _completion.Task;

    public override void Start(Connection owner) => _owner = owner;

    public override bool WaitForInput()
    {
        if (_closed || _hasCurrent) return true;
        try
        {
            var read = _reader.ReadAsync();
            if (read.IsCompleted)
            {
                Take(read);
                return true;
            }
            _pendingRead = read;
            _readOutstanding = true;
            read.GetAwaiter().UnsafeOnCompleted(_readCompleted);
            return false;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
        {
            _readFailed = true;
            return true;
        }
    }

    private void Take(ValueTask<ReadResult> read)
    {
        try
        {
            _current = read.GetAwaiter().GetResult();
            _hasCurrent = true;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
        {
            _readFailed = true;
        }
    }

    public override int Read(Span<byte> into, out ReadStatus status)
    {
        if (_readOutstanding)
        {
            _readOutstanding = false;
            Take(_pendingRead);
        }
        if (_readFailed || _closed)
        {
            status = ReadStatus.Failed;
            return 0;
        }
        if (!_hasCurrent)
        {
            try
            {
                if (!_reader.TryRead(out _current))
                {
                    status = ReadStatus.WouldBlock;
                    return 0;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
            {
                status = ReadStatus.Failed;
                return 0;
            }
        }
        _hasCurrent = false;
        var buffer = _current.Buffer;
        if (buffer.IsEmpty)
        {
            _reader.AdvanceTo(buffer.Start);
            status = _current.IsCompleted || _current.IsCanceled ? ReadStatus.End : ReadStatus.WouldBlock;
            return 0;
        }
        int n = (int)Math.Min(into.Length, buffer.Length);
        buffer.Slice(0, n).CopyTo(into);
        _reader.AdvanceTo(buffer.GetPosition(n));
        status = ReadStatus.Data;
        return n;
    }

    public override bool StartSend(List<OutboundFrame> frames)
    {
        _sendBytes = 0;
        _sendOk = false;
        if (_closed) return false;
        if (_socket is not null) return StartSocketSend(_socket, frames);
        try
        {
            foreach (var frame in frames)
            {
                var body = frame.Memory.Span;
                var header = _writer.GetSpan(WebSocketCodec.MaxOutboundHeaderBytes);
                int headerLength = WebSocketCodec.WriteHeader(header, frame.Kind, body.Length);
                _writer.Advance(headerLength);
                _writer.Write(body);
                _sendBytes += headerLength + body.Length;
            }
            var flush = _writer.FlushAsync();
            if (flush.IsCompleted)
            {
                Finish(flush);
                return false;
            }
            _pendingFlush = flush;
            _flushOutstanding = true;
            flush.GetAwaiter().UnsafeOnCompleted(_flushCompleted);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Frames every body behind its header into one rented buffer and sends it; true while the send is pending.</summary>
    private bool StartSocketSend(Socket socket, List<OutboundFrame> frames)
    {
        int total = 0;
        foreach (var frame in frames) total += WebSocketCodec.HeaderBytes(frame.Length) + frame.Length;
        var buffer = _sendBuffer = ArrayPool<byte>.Shared.Rent(total);
        int at = 0;
        foreach (var frame in frames)
        {
            var body = frame.Memory.Span;
            at += WebSocketCodec.WriteHeader(buffer.AsSpan(at), frame.Kind, body.Length);
            body.CopyTo(buffer.AsSpan(at));
            at += body.Length;
        }
        var args = _sendArgs ??= SocketArgsPool.Rent(_owner!);
        args.SetBuffer(buffer, 0, at);
        try
        {
            if (socket.SendAsync(args))
            {
                _socketSendOutstanding = true;
                return true;
            }
        }
        catch (ObjectDisposedException)
        {
            args.SocketError = SocketError.OperationAborted;
        }
        FinishSocketSend();
        return false;
    }

    private void FinishSocketSend()
    {
        _socketSendOutstanding = false;
        var args = _sendArgs!;
        _sendOk = args.SocketError == SocketError.Success && !_closed;
        _sendBytes = args.BytesTransferred;
        args.SetBuffer(null, 0, 0);
        if (_sendBuffer is { } buffer)
        {
            _sendBuffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Finish(ValueTask<FlushResult> flush)
    {
        try
        {
            var result = flush.GetAwaiter().GetResult();
            _sendOk = !result.IsCanceled && !result.IsCompleted && !_closed;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
        {
            _sendOk = false;
        }
    }

    public override bool LastSendSucceeded
    {
        get
        {
            if (_flushOutstanding)
            {
                _flushOutstanding = false;
                Finish(_pendingFlush);
            }
            if (_socketSendOutstanding) FinishSocketSend();
            return _sendOk;
        }
    }

    public override int LastSendBytes => _sendBytes;

    /// <summary>
    /// The HTTP server owns the socket and offers no half-close of an upgraded stream: the connection lingers reading
    /// and discarding until the peer, which got our close frame, closes (browsers and ClientWebSocket do at once).
    /// </summary>
    public override bool TryShutdownSend() => !_closed;

    public override void Close()
    {
        if (_closed) return;
        _closed = true;
        // Outstanding operations end now and still post their completions (the connection then recycles).
        _reader.CancelPendingRead();
        _writer.CancelPendingFlush();
        // A direct send that the peer does not drain (a slow consumer) ends only with the socket, as on TCP; the HTTP
        // server's own receive loop then ends with an error, and it disposes the socket again (a no-op) afterwards.
        if (_socketSendOutstanding) _socket!.Dispose();
    }

    public override void Recycle()
    {
        if (_hasCurrent)
        {
            _hasCurrent = false;
            _reader.AdvanceTo(_current.Buffer.Start);
        }
        if (_sendArgs is not null)
        {
            if (_socketSendOutstanding) FinishSocketSend(); // its completion was posted to a connection already closed
            SocketArgsPool.Return(_sendArgs);
            _sendArgs = null;
        }
        _completion.TrySetResult();
    }
}
