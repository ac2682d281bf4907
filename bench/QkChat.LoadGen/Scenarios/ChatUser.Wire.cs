using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The chat scenario's own requests as bytes: a send or an ack is a pooled frame written to the socket and an entry
/// in a per-connection table, keyed by its request id, that its answer (read by <see cref="OnRawFrame"/>), the
/// timeout sweep (<see cref="ExpireRequests"/>) or the connection's end removes, whichever comes first. No Task,
/// timer, closure or string per message: those were most of the load generator's CPU per message.
/// </summary>
public sealed partial class ChatUser
{
    private readonly Lock _wireLock = new();
    private readonly Dictionary<long, long> _sendsInFlight = [];           // send seq -> its first attempt's timestamp
    private readonly Dictionary<long, AckInFlight> _acksInFlightById = [];  // ack seq -> started, ids
    private SemaphoreSlim? _sendSlots;   // the paced loop's pipeline: an answered send gives its slot back
    private long _ackSeq;                // guarded by _ackLock

    private readonly record struct AckInFlight(long Started, int Ids);

    /// <summary>Starts one `send_message` to the partner; its slot in <paramref name="slots"/> comes back when it is
    /// answered, times out or the connection ends.</summary>
    private void BeginSend(SemaphoreSlim slots)
    {
        _sendSlots = slots;
        long seq = ++_seq;   // only the send loop sends
        long sent = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _counters.Sent);
        lock (_wireLock) _sendsInFlight.Add(seq, sent);
        WriteSend(seq, sent);
    }

    /// <summary>A send's frame: fresh per run and per message (a repeated client_msg_id would be answered with the old
    /// message and pushed to nobody, which this scenario would count as a loss). A retry after SERVER_BUSY rebuilds
    /// the same frame, as a real client must: the server did nothing, and the id keeps a retry from storing twice.</summary>
    private void WriteSend(long seq, long sent)
    {
        (byte[] frame, int length) = ChatWire.SendMessage(seq, Partner!.UserId, _runId, _context.Clock.UnixMicros(sent),
            _context.Options.MessageBytes);
        Write(frame, length);
    }

    private void Write(byte[] frame, int length)
    {
        Task write = _client.SendRawAsync(frame.AsMemory(0, length));
        if (write.IsCompletedSuccessfully)
        {
            ArrayPool<byte>.Shared.Return(frame);
            return;
        }
        _ = FinishWriteAsync(write, frame);
    }

    private async Task FinishWriteAsync(Task write, byte[] frame)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (ChatConnectionClosedException e)
        {
            DrainRequests(e.Info);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private void OnSendAnswer(in ChatFrame f)
    {
        long sent;
        bool retry;
        lock (_wireLock)
        {
            if (!_sendsInFlight.TryGetValue(f.RequestSeq, out sent)) return;   // already timed out: the answer is late
            // Latency stays measured from the first attempt: the wait is part of what the user sees.
            retry = f.Success != true && f.Code == ErrorCodes.ServerBusy && Stopwatch.GetTimestamp() < _context.Clock.WindowEndTimestamp;
            if (!retry) _sendsInFlight.Remove(f.RequestSeq);
        }
        if (retry)
        {
            Interlocked.Increment(ref _counters.BusyRetries);
            _ = RetrySendAsync(f.RequestSeq, sent, BusyWait(f.RetryAfterMs));
            return;
        }
        if (f.Success == true && f.MessageId > 0) SendSucceeded(Partner!, f.MessageId, sent);
        else SendFailed(f.Success == true ? "CLIENT_NO_MESSAGE_ID" : f.Code ?? "NO_CODE", sent);
        _sendSlots!.Release();
    }

    private async Task RetrySendAsync(long seq, long sent, TimeSpan wait)
    {
        try
        {
            await Task.Delay(wait, _context.HardStop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;   // the hard stop closes the connection, which settles the send
        }
        lock (_wireLock)
            if (!_sendsInFlight.ContainsKey(seq)) return;   // timed out meanwhile
        WriteSend(seq, sent);
    }

    /// <summary>Acknowledges what is queued, at most <see cref="MaxAckIds"/> ids a frame.</summary>
    private void Flush()
    {
        while (true)
        {
            byte[] frame;
            int length, ids;
            long seq;
            lock (_ackLock)
            {
                if (_toAck.Count == 0) return;
                ids = Math.Min(_toAck.Count, MaxAckIds);
                seq = ++_ackSeq;
                (frame, length) = ChatWire.MessageAck(seq, CollectionsMarshal.AsSpan(_toAck)[..ids]);
                _toAck.RemoveRange(0, ids);
                // Counted before the ids leave the lock, so AcksSettled never sees them in neither place.
                Interlocked.Increment(ref _acksInFlight);
            }
            Interlocked.Increment(ref _counters.AcksSent);
            lock (_wireLock) _acksInFlightById.Add(seq, new AckInFlight(Stopwatch.GetTimestamp(), ids));
            Write(frame, length);
        }
    }

    private void OnAckAnswer(in ChatFrame f)
    {
        AckInFlight ack;
        lock (_wireLock)
            if (!_acksInFlightById.Remove(f.RequestSeq, out ack)) return;
        string? error = null;
        if (f.Success == true)
        {
            Interlocked.Increment(ref _counters.AcksOk);
            Interlocked.Add(ref _counters.AckedIds, ack.Ids);
            if (_context.Clock.InWindow(ack.Started)) Interlocked.Add(ref _counters.AckedIdsWindow, ack.Ids);
        }
        else
        {
            error = f.Code ?? "NO_CODE";
            _context.Stats.Error("ACK_" + error);
        }
        AckSettled(ack, error);
    }

    private void AckSettled(AckInFlight ack, string? error)
    {
        Interlocked.Decrement(ref _acksInFlight);
        long now = Stopwatch.GetTimestamp();
        (_ackCounter ??= _context.Actions.For(Actions.MessageAck))
            .Record((now - ack.Started) * 1_000_000 / Stopwatch.Frequency, error, _context.Clock.InWindow(ack.Started));
    }

    /// <summary>Fails the requests unanswered for <paramref name="timeoutTicks"/> (the chat scenario's sweep; the
    /// request timeout is seconds, so a sweep a few times a second times them out closely enough).</summary>
    public void ExpireRequests(long now, long timeoutTicks)
    {
        List<KeyValuePair<long, long>>? sends = null;
        List<KeyValuePair<long, AckInFlight>>? acks = null;
        lock (_wireLock)
        {
            if (_sendsInFlight.Count == 0 && _acksInFlightById.Count == 0) return;
            foreach (KeyValuePair<long, long> p in _sendsInFlight)
                if (now - p.Value >= timeoutTicks) (sends ??= []).Add(p);
            foreach (KeyValuePair<long, AckInFlight> p in _acksInFlightById)
                if (now - p.Value.Started >= timeoutTicks) (acks ??= []).Add(p);
            if (sends is not null) foreach (var p in sends) _sendsInFlight.Remove(p.Key);
            if (acks is not null) foreach (var p in acks) _acksInFlightById.Remove(p.Key);
        }
        if (sends is not null)
            foreach (var p in sends)
            {
                SendFailed("CLIENT_TIMEOUT", p.Value);
                _sendSlots!.Release();
            }
        if (acks is not null)
            foreach (var p in acks)
            {
                _context.Stats.Error("ACK_CLIENT_TIMEOUT");
                AckSettled(p.Value, "CLIENT_TIMEOUT");
            }
    }

    private async Task DrainOnCloseAsync() => DrainRequests(await _client.Closed.ConfigureAwait(false));

    /// <summary>The connection ended: every request still unanswered is settled. Closed by the server, they are not
    /// errors (the drop is counted once by the connection set's watcher); closed here at the deadline, they are.</summary>
    private void DrainRequests(ChatCloseInfo info)
    {
        KeyValuePair<long, long>[] sends;
        KeyValuePair<long, AckInFlight>[] acks;
        lock (_wireLock)
        {
            sends = [.. _sendsInFlight];
            acks = [.. _acksInFlightById];
            _sendsInFlight.Clear();
            _acksInFlightById.Clear();
        }
        bool counted = info.Reason == ChatCloseReason.LocalClose;
        foreach (var p in sends)
        {
            if (counted) SendFailed(HeartbeatScenario.Unanswered, p.Value);
            _sendSlots!.Release();
        }
        foreach (var p in acks)
        {
            if (!counted)
            {
                Interlocked.Decrement(ref _acksInFlight);
                continue;
            }
            _context.Stats.Error("ACK_" + HeartbeatScenario.Unanswered);
            AckSettled(p.Value, HeartbeatScenario.Unanswered);
        }
    }
}
