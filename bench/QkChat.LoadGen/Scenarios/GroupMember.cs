using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// One group member's connection. Login and pacing are the chat user's (<see cref="ChatUser"/>, <see cref="Session"/>);
/// the receive loop checks every `group_message` push of its group into <see cref="Ledger"/> and times it from the
/// send time in its content (<see cref="ChatContent"/>: the run clock's microseconds, as chat carries them; the
/// group's senders and receivers share one process, so the clock is the same one); a sender sends
/// `send_group_message` at --rate with --pipeline in flight and records the seq it is answered in its own ledger.
/// </summary>
public sealed class GroupMember(ScenarioContext context, GroupCounters counters, ChatUser session, GroupState group)
{
    private readonly long _runId = context.Clock.StartUnixMs;
    private long _sends;

    public ChatUser Session { get; } = session;
    public GroupState Group { get; } = group;
    public GroupLedger Ledger { get; } = new();
    public ChatClient Client => Session.Client;

    /// <summary>Sends until the window ends, paced like chat; then waits for the sends in flight.</summary>
    public Task SendLoopAsync() => Session.PacedLoopAsync(SendAsync);

    /// <summary>One `send_group_message`; records its outcome (never throws for a failed request).</summary>
    public async Task SendAsync()
    {
        RunClock clock = context.Clock;
        long n = ++_sends;   // only the send loop sends
        long sent = Stopwatch.GetTimestamp();
        string content = ChatContent.Build(_runId, clock.UnixMicros(sent), context.Options.MessageBytes);
        long groupId = Group.GroupId;
        // Fresh per run, member and message: a repeated client_msg_id is answered with the first entry and stores
        // nothing. A retry after SERVER_BUSY reuses it, as a real client must.
        string clientMsgId = string.Create(CultureInfo.InvariantCulture, $"{_runId}-{Session.Account}-{n}");
        Interlocked.Increment(ref counters.Sent);
        try
        {
            Envelope r;
            while (true)
            {
                r = await Client.RequestAsync(Actions.SendGroupMessage, w =>
                {
                    w.WriteNumber("group_id", groupId);
                    w.WriteString("content", content);
                    w.WriteString("type", "text");
                    w.WriteString("client_msg_id", clientMsgId);
                }, context.RequestTimeout, context.HardStop).ConfigureAwait(false);
                if (r.Code != ErrorCodes.ServerBusy || Stopwatch.GetTimestamp() >= clock.WindowEndTimestamp) break;
                Interlocked.Increment(ref counters.BusyRetries);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * (0.5 + Random.Shared.NextDouble())), context.HardStop).ConfigureAwait(false);
            }
            long received = Stopwatch.GetTimestamp();
            if (r.Success == true && r.Data is { } data && data.TryGetProperty("seq", out JsonElement s) && s.TryGetInt64(out long seq))
            {
                Ledger.Sent(seq);
                Group.SentSeq(seq);
                Interlocked.Increment(ref counters.SentOk);
                if (clock.InWindow(sent)) Interlocked.Increment(ref counters.SentOkWindow);
                context.Stats.RoundTrip((received - sent) * 1_000_000 / Stopwatch.Frequency, clock.InWindow(sent), sent);
                Session.RecordAction(Actions.SendGroupMessage, sent, null);
            }
            else SendError(r.Success == true ? "CLIENT_NO_SEQ" : r.Code ?? "NO_CODE");
        }
        catch (TimeoutException)
        {
            SendError("CLIENT_TIMEOUT");
        }
        catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
        {
            // The server closed the connection: the drop is counted by the connection set's watcher.
        }
        catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
        {
            SendError(HeartbeatScenario.Unanswered);
        }

        void SendError(string code)
        {
            Interlocked.Increment(ref counters.SendErrors);
            context.Stats.Error(code);
            Session.RecordAction(Actions.SendGroupMessage, sent, code);
        }
    }

    /// <summary>
    /// Reads every push until the connection ends or the run's hard stop. `group_message` pushes are read from their
    /// bytes on the client's read loop (<see cref="GroupWire"/>); the inbox gets the rest.
    /// </summary>
    public async Task ReceiveLoopAsync()
    {
        Client.RawFrames = OnRawFrame;
        try
        {
            await foreach (Envelope e in Client.ReadInboxAsync(context.HardStop).ConfigureAwait(false))
            {
                if (e.Push && e.Action == PushNames.GroupMessage && e.Data is { ValueKind: JsonValueKind.Object } data) OnEntry(data);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>The client's raw frame handler: true for a `group_message` push, which it consumed.</summary>
    private bool OnRawFrame(ReadOnlySpan<byte> body)
    {
        if (!GroupWire.TryReadPush(body, out GroupPushFrame f)) return false;
        OnEntry(f.GroupId, f.Seq, f.OurContent, f.RunId, f.SentUnixMicros);
        return true;
    }

    /// <summary>A `group_message` that reached the inbox (a frame the raw reader did not take).</summary>
    private void OnEntry(JsonElement entry)
    {
        if (!entry.TryGetProperty("group_id", out JsonElement g) || !g.TryGetInt64(out long groupId)
            || !entry.TryGetProperty("seq", out JsonElement s) || !s.TryGetInt64(out long seq))
        {
            Interlocked.Increment(ref counters.Stale);
            return;
        }
        long run = 0, sentMicros = 0;
        bool ours = entry.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String
            && ChatContent.TryParseUtf8(JsonMarshal.GetRawUtf8Value(c), out run, out sentMicros);
        OnEntry(groupId, seq, ours, run, sentMicros);
    }

    private void OnEntry(long groupId, long seq, bool ourContent, long run, long sentMicros)
    {
        long now = Stopwatch.GetTimestamp();
        if (groupId != Group.GroupId)
        {
            // Another group's entry (a group of an earlier run that someone still writes to): not this run's.
            Interlocked.Increment(ref counters.Stale);
            return;
        }
        if (Ledger.Pushed(seq) != GroupPush.Delivered) return;
        if (!ourContent || run != _runId) return;   // held and counted by the ledger, but not timed: not content this run wrote
        RunClock clock = context.Clock;
        long arrivedMicros = clock.UnixMicros(now);
        bool inWindow = clock.InWindowUnixMicros(sentMicros);   // the entry's send time, whenever it arrives
        if (inWindow)
        {
            Interlocked.Increment(ref counters.DeliveredWindow);
            counters.DeliveryLatency.RecordValue(Math.Clamp(arrivedMicros - sentMicros, 1, RunStats.HighestTrackableMicros));
        }
        if (Group.Fanout.Arrived(seq, sentMicros, arrivedMicros) is { } last && inWindow)
            counters.LastMemberLatency.RecordValue(Math.Clamp(last, 1, RunStats.HighestTrackableMicros));
    }
}
