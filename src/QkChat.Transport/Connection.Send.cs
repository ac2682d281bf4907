namespace QkChat.Transport;

public sealed partial class Connection
{
    // One gathered send carries at most this many frames; enough to batch a burst of responses and pushes,
    // small enough that the segment list stays tiny.
    private const int MaxFramesPerSend = 32;

    private readonly Queue<OutboundFrame> _queue = new(0);
    private List<OutboundFrame>? _inFlight;
    private int _queuedBytes;
    private bool _sendPending;
    private bool _dirty;
    private bool _dropping;
    private long _sendStartedAt;
    private long _lastSentAt;

    /// <summary>
    /// Queues <paramref name="frame"/> (the connection takes over the caller's reference) to go out at the end of
    /// this reactor pass. Droppable frames (presence and other pushes a client can re-sync) are dropped while the
    /// queue is above the high-water mark, until it falls below the low mark. Past the hard cap the connection is
    /// closed as a slow consumer. Returns whether the frame was queued. The frame must be finished
    /// (<see cref="OutboundFrame.Finish"/>); with the header of this connection's codec where that header lives in the frame.
    /// </summary>
    public bool Send(OutboundFrame frame, bool droppable = false)
    {
        Reactor.AssertOnThread();
        if (!frame.IsFramedFor(_codec))
        {
            frame.Release();
            throw new InvalidOperationException("an OutboundFrame must be finished with the header of the connection's codec before it is sent");
        }
        if (_state != Phase.Open)
        {
            frame.Release();
            return false;
        }
        if (droppable)
        {
            if (_queuedBytes >= _options.SendQueueHighBytes) _dropping = true;
            else if (_queuedBytes < _options.SendQueueLowBytes) _dropping = false;
            if (_dropping)
            {
                Reactor.Stats.DroppedFrames++;
                frame.Release();
                return false;
            }
        }
        if (_queuedBytes + frame.WireLength > _options.SendQueueHardCapBytes)
        {
            frame.Release();
            Abort(CloseReason.SlowConsumer);
            return false;
        }
        _queue.Enqueue(frame);
        _queuedBytes += frame.WireLength;
        Reactor.Stats.FramesOut++;
        if (_queuedBytes > Reactor.Stats.PeakQueuedBytes) Reactor.Stats.PeakQueuedBytes = _queuedBytes;
        MarkDirty();
        return true;
    }

    private void MarkDirty()
    {
        if (_dirty) return;
        _dirty = true;
        Reactor.MarkDirty(this);
    }

    /// <summary>Starts one gathered send of the queued frames; synchronous completions loop here instead of recursing.</summary>
    internal void Flush()
    {
        _dirty = false;
        while (!_sendPending && _queue.Count > 0 && _state is Phase.Open or Phase.Closing)
        {
            _inFlight ??= new List<OutboundFrame>(MaxFramesPerSend);
            int count = Math.Min(_queue.Count, MaxFramesPerSend);
            for (int i = 0; i < count; i++) _inFlight.Add(_queue.Dequeue());
            _sendPending = true;
            _sendStartedAt = Environment.TickCount64;
            _lastSentAt = _sendStartedAt;
            if (_stream.StartSend(_inFlight)) return;
            if (!CompleteSend()) return;
        }
        if (_state == Phase.Closing && !_sendPending && _queue.Count == 0) BeginLinger();
    }

    /// <summary>The send completed on an I/O thread and was posted here.</summary>
    internal void OnSendCompleted()
    {
        if (CompleteSend()) Flush();
    }

    /// <summary>Releases the frames of the finished send; false when the connection is (now) closed.</summary>
    private bool CompleteSend()
    {
        _sendPending = false;
        int frameBytes = 0;
        foreach (var frame in _inFlight!)
        {
            frameBytes += frame.WireLength;
            frame.Release();
        }
        _inFlight.Clear();
        _queuedBytes -= frameBytes;
        if (_state == Phase.Closed)
        {
            TryRecycle();
            return false;
        }
        if (!_stream.LastSendSucceeded)
        {
            Abort(CloseReason.Reset);
            return false;
        }
        Reactor.Stats.BytesOut += _stream.LastSendBytes;
        Reactor.Stats.Sends++;
        return true;
    }

    /// <summary>For in-memory tests: the frames queued and not yet sent, oldest first (read on the reactor's thread).</summary>
    internal IReadOnlyCollection<OutboundFrame> Queued => _queue;

    /// <summary>
    /// For in-memory runs (benchmarks, allocation tests): drops what is queued as if it had been sent, without a
    /// socket write, and returns how many frames there were. Reactor thread only, like every other member.
    /// </summary>
    internal int DiscardQueued()
    {
        int frames = _queue.Count;
        ReleaseQueued();
        _dirty = false;
        Reactor.DiscardDirty();
        return frames;
    }

    private void ReleaseQueued()
    {
        while (_queue.TryDequeue(out var frame))
        {
            _queuedBytes -= frame.WireLength;
            frame.Release();
        }
    }
}
