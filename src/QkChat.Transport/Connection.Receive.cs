using System.Buffers;

namespace QkChat.Transport;

public sealed partial class Connection
{
    // Reads per wake-up before yielding to the other connections of the reactor: 16 x 4 KiB is plenty for a
    // burst of chat frames and stops one flooding client from starving the rest.
    private const int MaxReadsPerWakeup = 16;

    private byte[]? _receiveBlock;
    private int _received;
    private bool _receivePending;
    private bool _inReceive;
    private bool _paused;

    /// <summary>Stops offering input to the handler (e.g. while an earlier request of this connection runs elsewhere).</summary>
    public void Pause() => _paused = true;

    public bool IsPaused => _paused;

    /// <summary>Offers buffered input again, then reads on. Thread-safe.</summary>
    public void PostResume()
    {
        if (Reactor.IsCurrentThread) Resume();
        else Reactor.Post(new ReactorWork(WorkKind.Resume, this));
    }

    internal void Resume()
    {
        if (!_paused || _state == Phase.Closed) return;
        _paused = false;
        _inReceive = true;
        bool alive = _received == 0 || Deliver();
        _inReceive = false;
        if (!alive) { TryRecycle(); return; }
        if (_received == 0) ReturnReceiveBlock();
        ReceiveLoop();
    }

    /// <summary>
    /// Waits for input without a buffer (the stream's zero-byte receive); input that is ready at once is read in this
    /// loop rather than by recursion.
    /// </summary>
    private void ReceiveLoop()
    {
        while (_state != Phase.Closed && !_paused && !_receivePending)
        {
            _receivePending = true;
            if (!_stream.WaitForInput()) return;
            _receivePending = false;
            if (!ReadAvailable()) return;
        }
    }

    /// <summary>The stream has input (posted from an I/O thread, or by this connection to take its next turn).</summary>
    internal void OnReceiveReady()
    {
        _receivePending = false;
        if (_state == Phase.Closed)
        {
            TryRecycle();
            return;
        }
        if (ReadAvailable()) ReceiveLoop();
    }

    /// <summary>
    /// Reads what the stream holds without blocking and hands whole messages to the handler; false when closed, paused
    /// or re-queued (a ReceiveReady is then on its way), true when the stream would block and must be waited on again.
    /// </summary>
    private bool ReadAvailable()
    {
        _inReceive = true;
        var status = ReadStatus.Data;
        try
        {
            for (int reads = 0; reads < MaxReadsPerWakeup; reads++)
            {
                if (_state == Phase.Closed || _paused) return false;
                var free = FreeReceiveSpace();
                if (free.IsEmpty) return false; // closed for an oversize partial frame
                int n = _stream.Read(free, out status);
                if (status == ReadStatus.WouldBlock) break;
                if (status == ReadStatus.Failed) { Abort(CloseReason.Reset); return false; }
                if (status == ReadStatus.End) { Abort(_state == Phase.Open ? CloseReason.PeerClosed : _closeReason); return false; }
                Reactor.Stats.BytesIn += n;
                if (_state != Phase.Open) continue; // closing: input is discarded
                _received += n;
                if (!Deliver()) return false;
            }
            if (_received == 0 || _state != Phase.Open) ReturnReceiveBlock();
            if (_state == Phase.Closed || _paused) return false;
            if (status != ReadStatus.WouldBlock)
            {
                // Still more to read: go to the back of the inbox so the reactor's other connections get a turn.
                _receivePending = true;
                Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, this));
                return false;
            }
            return true;
        }
        finally
        {
            _inReceive = false;
            if (_state == Phase.Closed) TryRecycle();
        }
    }

    /// <summary>Offers the buffered bytes to the codec and the handler and keeps what is not a whole frame yet.</summary>
    private bool Deliver()
    {
        int consumed = OfferInput(_receiveBlock.AsSpan(0, _received));
        if (_state == Phase.Closed) return false;
        if (consumed > 0)
        {
            _received -= consumed;
            if (_received > 0) _receiveBlock.AsSpan(consumed, _received).CopyTo(_receiveBlock);
        }
        return true;
    }

    /// <summary>
    /// Splits <paramref name="input"/> with the listener's codec and hands each whole body to the handler; returns the
    /// bytes consumed (a partial frame stays). A frame the codec rejects is reported to the handler, which answers it,
    /// and the connection closes: a byte stream cannot be resynchronised after a bad header.
    /// </summary>
    internal int OfferInput(Span<byte> input)
    {
        int offset = 0;
        while (_state == Phase.Open)
        {
            var status = _codec.Decode(input[offset..], _options.MaxFrameBytes, out var frame);
            switch (status)
            {
                case FrameDecodeStatus.Incomplete:
                    return offset;
                case FrameDecodeStatus.Complete:
                    Reactor.Handler.OnFrame(this, input.Slice(offset + frame.BodyOffset, frame.BodyLength));
                    offset += frame.FrameLength;
                    // A request answered later paused the connection: the rest waits, so answers stay in request order.
                    if (_paused) return _state == Phase.Open ? offset : input.Length;
                    break;
                case FrameDecodeStatus.Control:
                    AnswerControl(frame.Kind, input.Slice(offset + frame.BodyOffset, frame.BodyLength));
                    offset += frame.FrameLength;
                    break;
                default:
                    var error = status switch
                    {
                        FrameDecodeStatus.Empty => FrameError.Empty,
                        FrameDecodeStatus.TooLarge => FrameError.TooLarge,
                        FrameDecodeStatus.Unsupported => FrameError.Unsupported,
                        _ => FrameError.Invalid,
                    };
                    _badFrame = error; // before the handler: it may close, and the close frame's code says why
                    Reactor.Handler.OnBadFrame(this, error, frame.DeclaredLength, _options.MaxFrameBytes);
                    CloseAfterFlush(CloseReason.ProtocolError);
                    return input.Length;
            }
        }
        return input.Length; // closed while handling: nothing more will be read
    }

    /// <summary>A control message of the framing (WebSocket ping, pong, close): the codec's answer goes out; a close closes.</summary>
    private void AnswerControl(FrameKind kind, ReadOnlySpan<byte> payload)
    {
        var answer = _codec.AnswerControl(kind, payload, out bool close);
        if (answer is not null) Send(answer);
        if (!close) return;
        _goodbyeSent = true; // the answer was the closing handshake's frame
        CloseAfterFlush(CloseReason.PeerClosed);
    }

    /// <summary>The free tail of the receive block, renting or growing it as needed (up to one maximum frame and its header).</summary>
    private Span<byte> FreeReceiveSpace()
    {
        if (_receiveBlock is null)
        {
            _receiveBlock = ArrayPool<byte>.Shared.Rent(_options.ReceiveBlockBytes);
            return _receiveBlock;
        }
        if (_received < _receiveBlock.Length) return _receiveBlock.AsSpan(_received);
        int limit = _options.MaxFrameBytes + _codec.MaxHeaderBytes;
        if (_receiveBlock.Length >= limit)
        {
            // The codec checks declared lengths before buffering, so this means a frame it could not bound.
            Abort(CloseReason.ProtocolError);
            return default;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_receiveBlock.Length * 2, limit));
        _receiveBlock.AsSpan(0, _received).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_receiveBlock);
        _receiveBlock = bigger;
        return _receiveBlock.AsSpan(_received);
    }

    private void ReturnReceiveBlock()
    {
        if (_receiveBlock is null) return;
        ArrayPool<byte>.Shared.Return(_receiveBlock);
        _receiveBlock = null;
        _received = 0;
    }
}
