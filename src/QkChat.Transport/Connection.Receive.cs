using System.Buffers;
using System.Net.Sockets;

namespace QkChat.Transport;

public sealed partial class Connection
{
    // Reads per wake-up before yielding to the other connections of the reactor: 16 x 4 KiB is plenty for a
    // burst of chat frames and stops one flooding client from starving the rest.
    private const int MaxReadsPerWakeup = 16;

    private SocketAsyncEventArgs? _receiveArgs;
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
        if (!Embedded) ReceiveLoop();
    }

    /// <summary>Driven by <see cref="InMemoryConnection"/>: bytes arrive through the handler, never from the socket.</summary>
    internal bool Embedded { get; set; }

    /// <summary>
    /// Posts a zero-byte receive: it completes when data is ready without tying a buffer to an idle connection.
    /// Synchronous completions are handled in this loop rather than by recursion.
    /// </summary>
    private void ReceiveLoop()
    {
        if (_tls is not null)
        {
            if (_state != Phase.Closed && !_paused) _tls.PermitRead();
            return;
        }
        while (_state != Phase.Closed && !_paused && !_receivePending)
        {
            _receiveArgs ??= SocketArgsPool.Rent(this);
            _receivePending = true;
            bool pending;
            try
            {
                pending = _socket.ReceiveAsync(_receiveArgs);
            }
            catch (ObjectDisposedException)
            {
                _receivePending = false;
                Abort(CloseReason.Reset);
                return;
            }
            if (pending) return;
            _receivePending = false;
            if (!ReadAvailable()) return;
        }
    }

    /// <summary>The zero-byte receive completed on an I/O thread and was posted here.</summary>
    internal void OnReceiveReady()
    {
        if (_tls is not null)
        {
            OnTlsChunk();
            return;
        }
        _receivePending = false;
        if (_state == Phase.Closed)
        {
            TryRecycle();
            return;
        }
        if (ReadAvailable()) ReceiveLoop();
    }

    /// <summary>Reads what the socket holds without blocking and hands it to the handler; false when closed or paused.</summary>
    private bool ReadAvailable()
    {
        if (_receiveArgs!.SocketError != SocketError.Success)
        {
            Abort(CloseReason.Reset);
            return false;
        }
        _inReceive = true;
        var error = SocketError.Success;
        try
        {
            for (int reads = 0; reads < MaxReadsPerWakeup; reads++)
            {
                if (_state == Phase.Closed || _paused) return false;
                var free = FreeReceiveSpace();
                if (free.IsEmpty) return false; // closed for an oversize partial frame
                int n = _socket.Receive(free, SocketFlags.None, out error);
                if (error == SocketError.WouldBlock) break;
                if (error != SocketError.Success) { Abort(CloseReason.Reset); return false; }
                if (n == 0) { Abort(_state == Phase.Open ? CloseReason.PeerClosed : _closeReason); return false; }
                Reactor.Stats.BytesIn += n;
                if (_state != Phase.Open) continue; // closing: input is discarded
                _received += n;
                if (!Deliver()) return false;
            }
            if (_received == 0 || _state != Phase.Open) ReturnReceiveBlock();
            if (_state == Phase.Closed || _paused) return false;
            if (error != SocketError.WouldBlock)
            {
                // Still more to read: go to the back of the inbox so the reactor's other connections get a turn.
                _receivePending = true;
                Reactor.Post(new ReactorWork(WorkKind.ReceiveReady, this));
                return false;
            }
            return true;
        }
        catch (ObjectDisposedException)
        {
            Abort(CloseReason.Reset);
            return false;
        }
        finally
        {
            _inReceive = false;
            if (_state == Phase.Closed) TryRecycle();
        }
    }

    /// <summary>A decrypted chunk (or end of stream) from the TLS read loop: same buffering and delivery as plain TCP.</summary>
    private void OnTlsChunk()
    {
        var tls = _tls!;
        var chunk = tls.TakeChunk();
        int n = tls.ChunkLength;
        _inReceive = true;
        try
        {
            if (_state == Phase.Closed) return;
            if (tls.ReadFailed) { Abort(CloseReason.Reset); return; }
            if (chunk is null) { Abort(_state == Phase.Open ? CloseReason.PeerClosed : _closeReason); return; }
            Reactor.Stats.BytesIn += n;
            if (_state != Phase.Open) { tls.PermitRead(); return; } // closing: input is discarded
            for (int offset = 0; offset < n;)
            {
                var free = FreeReceiveSpace();
                if (free.IsEmpty) return; // closed for an oversize partial frame
                int take = Math.Min(free.Length, n - offset);
                chunk.AsSpan(offset, take).CopyTo(free);
                _received += take;
                offset += take;
                // While paused the rest of the chunk is only buffered; Resume delivers it.
                if (!_paused && !Deliver()) return;
            }
            if (_received == 0) ReturnReceiveBlock();
            if (!_paused) tls.PermitRead();
        }
        finally
        {
            if (chunk is not null) ArrayPool<byte>.Shared.Return(chunk);
            _inReceive = false;
            if (_state == Phase.Closed) TryRecycle();
        }
    }

    /// <summary>Offers the buffered bytes to the handler and keeps what it did not consume (a partial frame).</summary>
    private bool Deliver()
    {
        int consumed = Reactor.Handler.OnReceived(this, _receiveBlock.AsSpan(0, _received));
        if (_state == Phase.Closed) return false;
        if ((uint)consumed > (uint)_received) throw new InvalidOperationException($"handler consumed {consumed} of {_received} bytes");
        if (consumed > 0)
        {
            _received -= consumed;
            if (_received > 0) _receiveBlock.AsSpan(consumed, _received).CopyTo(_receiveBlock);
        }
        return true;
    }

    /// <summary>The free tail of the receive block, renting or growing it as needed (bounded by MaxReceiveBufferBytes).</summary>
    private Span<byte> FreeReceiveSpace()
    {
        if (_receiveBlock is null)
        {
            _receiveBlock = ArrayPool<byte>.Shared.Rent(_options.ReceiveBlockBytes);
            return _receiveBlock;
        }
        if (_received < _receiveBlock.Length) return _receiveBlock.AsSpan(_received);
        if (_receiveBlock.Length >= _options.MaxReceiveBufferBytes)
        {
            // The handler checks declared lengths before buffering, so this means a frame it could not bound.
            Abort(CloseReason.ProtocolError);
            return default;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_receiveBlock.Length * 2, _options.MaxReceiveBufferBytes));
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
