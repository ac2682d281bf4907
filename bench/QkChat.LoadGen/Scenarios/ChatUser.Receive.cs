using System.Diagnostics;
using System.Text.Json;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>The receive side of a chat connection: pushes, and the answers to the scenario's own requests.</summary>
public sealed partial class ChatUser
{
    /// <summary>
    /// Reads every push until the connection ends or the run's hard stop. The frames of the hot path (answers to
    /// sends and acks, `message` and `message_status` pushes) are read from their bytes on the client's read loop
    /// (<see cref="OnRawFrame"/>); what reaches the inbox is the rest, `offline_messages` among them.
    /// </summary>
    public async Task ReceiveLoopAsync()
    {
        _client.RawFrames = OnRawFrame;
        _ = DrainOnCloseAsync();
        try
        {
            await foreach (Envelope e in _client.ReadInboxAsync(_context.HardStop).ConfigureAwait(false))
            {
                if (!e.Push || e.Data is not { ValueKind: JsonValueKind.Object } data) continue;
                switch (e.Action)
                {
                    case PushNames.Message:
                        OnMessage(data, offline: false);
                        break;
                    case PushNames.OfflineMessages when data.TryGetProperty("messages", out JsonElement list) && list.ValueKind == JsonValueKind.Array:
                        foreach (JsonElement m in list.EnumerateArray()) OnMessage(m, offline: true);
                        break;
                    case PushNames.MessageStatus when data.TryGetProperty("status", out JsonElement s) && s.ValueEquals("delivered"u8):
                        Interlocked.Increment(ref _counters.StatusDelivered);
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>The client's raw frame handler: true for a frame this scenario consumed.</summary>
    private bool OnRawFrame(ReadOnlySpan<byte> body)
    {
        if (!ChatWire.TryRead(body, out ChatFrame f)) return false;
        if (f.Push)
        {
            switch (f.Action)
            {
                case ChatAction.Message:
                    if (f.MessageId > 0) OnMessage(f.MessageId, f.SenderId, f.OurContent && f.RunId == _runId, f.SentUnixMicros, offline: false);
                    return true;
                case ChatAction.MessageStatus:
                    if (f.Delivered) Interlocked.Increment(ref _counters.StatusDelivered);
                    return true;
                default:
                    return false;
            }
        }
        switch (f.RequestPrefix)
        {
            case ChatWire.SendPrefix:
                OnSendAnswer(in f);
                return true;
            case ChatWire.AckPrefix:
                OnAckAnswer(in f);
                return true;
            default:
                return false;
        }
    }

    private void OnMessage(JsonElement m, bool offline)
    {
        if (!m.TryGetProperty("message_id", out JsonElement idElement) || !idElement.TryGetInt64(out long id)) return;
        string? content = m.TryGetProperty("content", out JsonElement c) ? c.GetString() : null;
        long run = 0, sentMicros = 0;
        bool ours = content is not null && ChatContent.TryParse(content, out run, out sentMicros) && run == _runId;
        long sender = m.TryGetProperty("sender_id", out JsonElement s) && s.TryGetInt64(out long sid) ? sid : 0;
        OnMessage(id, sender, ours, sentMicros, offline);
    }

    /// <summary>A message pushed here; <paramref name="ours"/>: its content is this run's (then
    /// <paramref name="sentMicros"/> is its send time).</summary>
    private void OnMessage(long id, long sender, bool ours, long sentMicros, bool offline)
    {
        long now = Stopwatch.GetTimestamp();
        if (!ours)
        {
            // Left over from an earlier run (stored while its receiver was gone): acknowledged so that the server
            // stops offering it, and kept out of this run's accounting.
            Interlocked.Increment(ref _counters.Stale);
            QueueAck(id);
            return;
        }
        // This run's messages in an offline batch: the receiver was online for all of them, so each one here
        // either repeats a live push (a duplicate) or was stored while the server thought it offline.
        if (offline) Interlocked.Increment(ref _counters.OfflinePushed);
        if (!Inbound.Arrived(id, sender))
        {
            if (offline) Interlocked.Increment(ref _counters.OfflineDuplicates);
            return;   // a duplicate: counted by the ledger, acknowledged the first time
        }
        RunClock clock = _context.Clock;
        // The window's when the message was sent inside it (its content carries the send time), whenever it arrives.
        if (clock.InWindowUnixMicros(sentMicros))
        {
            Interlocked.Increment(ref _counters.DeliveredWindow);
            _counters.DeliveryLatency.RecordValue(Math.Clamp(clock.UnixMicros(now) - sentMicros, 1, RunStats.HighestTrackableMicros));
        }
        QueueAck(id);
    }
}
