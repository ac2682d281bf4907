using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Results;

/// <summary>
/// group: what the groups measured, summed over workers (a group never spans two). "Window" counts are events
/// inside the measured window and give the rates; the other counts cover the whole run, on which losses and
/// duplicates are judged. A delivery is one entry pushed to one member and checked by that member's ledger. Send
/// latency (send_group_message to `sent`) is the run's main histogram (latency_us).
/// </summary>
public sealed class GroupResult
{
    public int Groups { get; set; }
    public int GroupSize { get; set; }
    public int SendersPerGroup { get; set; }
    public double RatePerSender { get; set; }
    public int MessageBytes { get; set; }

    /// <summary>Groups whose members all logged in and that were created, filled and started sending.</summary>
    public long GroupsReady { get; set; }
    public long SetupErrors { get; set; }
    public long LoginsOk { get; set; }

    /// <summary>send_group_message requests, and those answered `sent` (whole run).</summary>
    public long Sent { get; set; }
    public long SentOk { get; set; }
    public long SendErrors { get; set; }
    public long BusyRetries { get; set; }

    /// <summary>`sent` answers inside the window, per second: durable entries stored (seqs handed out).</summary>
    public long SentOkWindow { get; set; }
    public double SentPerS { get; set; }

    /// <summary>Entries in the groups' timelines from the start of sending to the end (max_seq - base, summed).</summary>
    public long Entries { get; set; }

    /// <summary>First pushes of an entry to a member: whole run, inside the window, and per second of the window.</summary>
    public long Delivered { get; set; }
    public long DeliveredWindow { get; set; }
    public double DeliveredPerS { get; set; }

    /// <summary>A member never got an entry up to the group's max_seq (neither pushed, nor its own, nor returned by
    /// sync_group_messages at the end). Must be 0.</summary>
    public long Lost { get; set; }

    /// <summary>Entries of others a member was not pushed by the end but read with sync_group_messages: stored, the
    /// push late or dropped. An availability failure (subtracted from the successes), not a loss.</summary>
    public long Late { get; set; }

    /// <summary>An entry a member already held pushed to it again. Must be 0.</summary>
    public long Duplicates { get; set; }

    /// <summary>Pushed with a lower seq than an earlier push to the same member (a gap filled late). Must be 0.</summary>
    public long OutOfOrder { get; set; }

    /// <summary>Seqs members still missed whose end-of-run sync did not finish (unanswered by the end, or refused):
    /// never looked for in the timeline, so neither delivered nor shown lost. An availability failure; the sync's
    /// failure is also an error of the run.</summary>
    public long Unsynced { get; set; }

    /// <summary>Own entries a sender found stored at the end (sync_group_messages) though its `sent` answer never came.</summary>
    public long Unconfirmed { get; set; }

    /// <summary>Pushes of other groups' entries (groups of earlier runs): not counted.</summary>
    public long Stale { get; set; }

    /// <summary>Groups whose max_seq could not be read at the end: their losses are judged up to the highest seq a
    /// sender was answered instead.</summary>
    public long MaxSeqUnread { get; set; }

    /// <summary>Pushes the client dropped because its inbox was full; each shows as a loss.</summary>
    public long InboxDropped { get; set; }

    /// <summary>Send request to each member's push, and to the push that reached an entry's last member.</summary>
    public LatencySummary? DeliveryLatencyUs { get; set; }
    public LatencySummary? LastMemberLatencyUs { get; set; }
    public LatencySummary? SendLatencyUs { get; set; }
    public long[][]? DeliveryHistogramPairs { get; set; }
    public long[][]? LastMemberHistogramPairs { get; set; }

    public static GroupResult Merge(IEnumerable<GroupResult> parts)
    {
        var merged = new GroupResult();
        var delivery = RunStats.NewHistogram();
        var last = RunStats.NewHistogram();
        foreach (GroupResult p in parts)
        {
            merged.Groups += p.Groups;
            merged.GroupSize = p.GroupSize;
            merged.SendersPerGroup = p.SendersPerGroup;
            merged.RatePerSender = p.RatePerSender;
            merged.MessageBytes = p.MessageBytes;
            merged.GroupsReady += p.GroupsReady;
            merged.SetupErrors += p.SetupErrors;
            merged.LoginsOk += p.LoginsOk;
            merged.Sent += p.Sent;
            merged.SentOk += p.SentOk;
            merged.SendErrors += p.SendErrors;
            merged.BusyRetries += p.BusyRetries;
            merged.SentOkWindow += p.SentOkWindow;
            merged.Entries += p.Entries;
            merged.Delivered += p.Delivered;
            merged.DeliveredWindow += p.DeliveredWindow;
            merged.Lost += p.Lost;
            merged.Late += p.Late;
            merged.Unsynced += p.Unsynced;
            merged.Duplicates += p.Duplicates;
            merged.OutOfOrder += p.OutOfOrder;
            merged.Stale += p.Stale;
            merged.Unconfirmed += p.Unconfirmed;
            merged.MaxSeqUnread += p.MaxSeqUnread;
            merged.InboxDropped += p.InboxDropped;
            HistogramCodec.AddPairs(delivery, p.DeliveryHistogramPairs);
            HistogramCodec.AddPairs(last, p.LastMemberHistogramPairs);
        }
        merged.DeliveryHistogramPairs = HistogramCodec.ToPairs(delivery);
        merged.LastMemberHistogramPairs = HistogramCodec.ToPairs(last);
        return merged;
    }

    /// <summary>Rates over the window and the percentiles; the bucket pairs leave the final result.</summary>
    public void Finish(double durationS, LatencySummary? sendLatency)
    {
        SentPerS = durationS > 0 ? Math.Round(SentOkWindow / durationS, 1) : 0;
        DeliveredPerS = durationS > 0 ? Math.Round(DeliveredWindow / durationS, 1) : 0;
        DeliveryLatencyUs = Summarize(DeliveryHistogramPairs);
        LastMemberLatencyUs = Summarize(LastMemberHistogramPairs);
        DeliveryHistogramPairs = LastMemberHistogramPairs = null;
        SendLatencyUs = sendLatency;
    }

    private static LatencySummary? Summarize(long[][]? pairs)
    {
        var histogram = RunStats.NewHistogram();
        HistogramCodec.AddPairs(histogram, pairs);
        return HistogramCodec.Summarize(histogram);
    }

    /// <summary>Why the run failed, from the groups' own checks. Groups that never started are an availability
    /// failure (logins or setup failed): left out with <paramref name="includeAvailability"/> false.</summary>
    public IEnumerable<string> Problems(bool includeAvailability = true)
    {
        if (Lost > 0) yield return $"{Lost} deliveries lost (entries up to max_seq a member never got)";
        if (Duplicates > 0) yield return $"{Duplicates} entries delivered twice";
        if (OutOfOrder > 0) yield return $"{OutOfOrder} entries delivered out of seq order";
        if (InboxDropped > 0) yield return $"{InboxDropped} pushes dropped by a full client inbox";
        if (includeAvailability && Late > 0) yield return $"{Late} deliveries late (stored, read by sync at the end, never pushed)";
        if (includeAvailability && Unsynced > 0) yield return $"{Unsynced} deliveries unverified (the member's end-of-run sync did not finish)";
        if (includeAvailability && GroupsReady < Groups) yield return $"{Groups - GroupsReady} of {Groups} groups never started";
        if (SentOk == 0) yield return "no entry was sent";
    }
}
