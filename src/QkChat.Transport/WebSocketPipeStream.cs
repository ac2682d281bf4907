using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

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
/// </summary>
internal sealed class WebSocketPipeStream : ConnectionStream
{
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
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

    public WebSocketPipeStream(PipeReader reader, PipeWriter writer)
    {
        _reader = reader;
        _writer = writer;
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
    }

    public override void Recycle()
    {
        if (_hasCurrent)
        {
            _hasCurrent = false;
            _reader.AdvanceTo(_current.Buffer.Start);
        }
        _completion.TrySetResult();
    }
}
