using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Results;

/// <summary>
/// chat: what the pairs measured, summed over workers (a pair never spans two). "Window" counts are events that
/// happened inside the measured window and give the rates; the other counts cover the whole run, which is what
/// losses and duplicates must be judged on. Send latency is the run's main histogram (latency_us).
/// </summary>
public sealed class ChatResult
{
    public int Pairs { get; set; }
    public double RatePerUser { get; set; }
    public int MessageBytes { get; set; }

    /// <summary>Pairs whose two users both logged in and started sending.</summary>
    public long PairsChatting { get; set; }
    public long LoginsOk { get; set; }

    /// <summary>send_message requests, and those answered `sent` (whole run).</summary>
    public long Sent { get; set; }
    public long SentOk { get; set; }
    public long SendErrors { get; set; }

    /// <summary>Sends answered SERVER_BUSY and sent again (same client_msg_id) after the server's retry_after_ms.</summary>
    public long BusyRetries { get; set; }

    /// <summary>`sent` answers inside the window.</summary>
    public long SentOkWindow { get; set; }
    public double SentPerS { get; set; }

    /// <summary>First `message` (or offline_messages) pushes of this run's messages: whole run, and inside the window.</summary>
    public long Delivered { get; set; }
    public long DeliveredWindow { get; set; }
    public double DeliveredPerS { get; set; }

    /// <summary>message_ack requests sent and answered OK, and the ids they carried.</summary>
    public long AcksSent { get; set; }
    public long AcksOk { get; set; }
    public long AckedIds { get; set; }
    public long AckedIdsWindow { get; set; }
    public double AckedPerS { get; set; }

    /// <summary>message_ack requests still unanswered when the settle ended (step 5), and of all, those still
    /// unanswered at the end of the wait for them (PairAckWait, step 7): the latter close as
    /// ACK_CLIENT_UNANSWERED_AT_DEADLINE errors, which fail the run.</summary>
    public long AcksAwaitedAtSettle { get; set; }
    public long AcksUnansweredAtEnd { get; set; }

    /// <summary>message_status `delivered` pushes the senders received.</summary>
    public long StatusDelivered { get; set; }

    /// <summary>Answered `sent`, never pushed to the receiver, and not returned by its end-of-run sync_messages either:
    /// the server does not have it. Must be 0.</summary>
    public long Lost { get; set; }

    /// <summary>Answered `sent`, never pushed to the receiver by the end (its connection dropped, or the server was
    /// behind), but read by the receiver's end-of-run sync_messages: stored, not lost. An availability failure
    /// (subtracted from the successes), like the group scenario's late entries.</summary>
    public long Late { get; set; }

    /// <summary>Receivers still missing messages whose end-of-run sync did not finish (reconnect, login or a page
    /// failed, or the deadline came): what they miss stays counted as lost.</summary>
    public long CatchUpUnfinished { get; set; }

    /// <summary>The same message_id pushed twice to one connection. Must be 0.</summary>
    public long Duplicates { get; set; }

    /// <summary>Pushed with a lower id than an earlier push from the same sender to the same connection. Must be 0.</summary>
    public long OutOfOrder { get; set; }

    /// <summary>Pushed, but the sender never read `sent` for it (its answer failed or timed out).</summary>
    public long Unconfirmed { get; set; }

    /// <summary>Messages of earlier runs pushed at login (stored while their receiver was gone): acknowledged, not counted.</summary>
    public long Stale { get; set; }

    /// <summary>This run's messages that came in `offline_messages` batches rather than as a live `message` push, and
    /// how many of those repeated a message already pushed (the duplicates' usual source: the login's offline batch
    /// racing a live push).</summary>
    public long OfflinePushed { get; set; }
    public long OfflineDuplicates { get; set; }

    /// <summary>Pushes the client dropped because its inbox was full; each would show as a loss.</summary>
    public long InboxDropped { get; set; }

    /// <summary>Send request time to the receiver's push, microseconds, pushes inside the window.</summary>
    public LatencySummary? DeliveryLatencyUs { get; set; }
    public LatencySummary? SendLatencyUs { get; set; }
    public long[][]? DeliveryHistogramPairs { get; set; }

    public static ChatResult Merge(IEnumerable<ChatResult> parts)
    {
        var merged = new ChatResult();
        var delivery = RunStats.NewHistogram();
        foreach (ChatResult p in parts)
        {
            merged.Pairs += p.Pairs;
            merged.RatePerUser = p.RatePerUser;
            merged.MessageBytes = p.MessageBytes;
            merged.PairsChatting += p.PairsChatting;
            merged.LoginsOk += p.LoginsOk;
            merged.Sent += p.Sent;
            merged.SentOk += p.SentOk;
            merged.SendErrors += p.SendErrors;
            merged.BusyRetries += p.BusyRetries;
            merged.SentOkWindow += p.SentOkWindow;
            merged.Delivered += p.Delivered;
            merged.DeliveredWindow += p.DeliveredWindow;
            merged.AcksSent += p.AcksSent;
            merged.AcksOk += p.AcksOk;
            merged.AcksAwaitedAtSettle += p.AcksAwaitedAtSettle;
            merged.AcksUnansweredAtEnd += p.AcksUnansweredAtEnd;
            merged.AckedIds += p.AckedIds;
            merged.AckedIdsWindow += p.AckedIdsWindow;
            merged.StatusDelivered += p.StatusDelivered;
            merged.Lost += p.Lost;
            merged.Late += p.Late;
            merged.CatchUpUnfinished += p.CatchUpUnfinished;
            merged.Duplicates += p.Duplicates;
            merged.OutOfOrder += p.OutOfOrder;
            merged.Unconfirmed += p.Unconfirmed;
            merged.Stale += p.Stale;
            merged.InboxDropped += p.InboxDropped;
            merged.OfflinePushed += p.OfflinePushed;
            merged.OfflineDuplicates += p.OfflineDuplicates;
            HistogramCodec.AddPairs(delivery, p.DeliveryHistogramPairs);
        }
        merged.DeliveryHistogramPairs = HistogramCodec.ToPairs(delivery);
        return merged;
    }

    /// <summary>Rates over the window and the delivery percentiles; the bucket pairs leave the final result.</summary>
    public void Finish(double durationS, LatencySummary? sendLatency)
    {
        SentPerS = durationS > 0 ? Math.Round(SentOkWindow / durationS, 1) : 0;
        DeliveredPerS = durationS > 0 ? Math.Round(DeliveredWindow / durationS, 1) : 0;
        AckedPerS = durationS > 0 ? Math.Round(AckedIdsWindow / durationS, 1) : 0;
        var delivery = RunStats.NewHistogram();
        HistogramCodec.AddPairs(delivery, DeliveryHistogramPairs);
        DeliveryLatencyUs = HistogramCodec.Summarize(delivery);
        DeliveryHistogramPairs = null;
        SendLatencyUs = sendLatency;
    }

    /// <summary>Why the run failed, from the chat's own checks (errors and connections are judged elsewhere). Pairs
    /// that never started are an availability failure (their logins failed): left out with
    /// <paramref name="includeAvailability"/> false, when --min-success judges those.</summary>
    public IEnumerable<string> Problems(bool includeAvailability = true)
    {
        if (Lost > 0) yield return $"{Lost} messages answered `sent` were never delivered";
        if (Duplicates > 0) yield return $"{Duplicates} messages delivered twice";
        if (OutOfOrder > 0) yield return $"{OutOfOrder} messages delivered out of order";
        if (InboxDropped > 0) yield return $"{InboxDropped} pushes dropped by a full client inbox";
        if (CatchUpUnfinished > 0) yield return $"{CatchUpUnfinished} receivers could not finish the end-of-run sync (what they miss counts as lost)";
        if (includeAvailability && Late > 0) yield return $"{Late} messages late (stored, read by sync at the end, never pushed)";
        if (includeAvailability && PairsChatting < Pairs) yield return $"{Pairs - PairsChatting} of {Pairs} pairs never started chatting";
        if (SentOk == 0) yield return "no message was sent";
    }
}
