using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The group scenario's end of run on the run clock (docs/loadgen.md "group", step 4). After the window, sends in
/// flight and pushes still coming get until <see cref="DrainUntil"/>: the grace plus --drain-seconds, less what is kept
/// for the end: <see cref="MaxSeqReserve"/> to read every group's max_seq, then the sync's reserve for members that still
/// miss seqs to read them with sync_group_messages before the deadline (the hard stop). So a server seconds behind has
/// its late answers and pushes counted as such, and only what the timeline does not return after the sync is lost.
/// </summary>
public readonly record struct GroupEndPhases(long DrainUntil, long SyncFrom)
{
    /// <summary>Reading every group's max_seq: one get_group_info per group, all at once; 1.5 s is hundreds of times its
    /// loopback latency.</summary>
    public static readonly TimeSpan MaxSeqReserve = TimeSpan.FromMilliseconds(1500);

    /// <summary>The most kept for the sync: 10 s, the request timeout, so a sync page as slow as the slowest answer
    /// still fits; half the drain when the drain is shorter (no drain: the sync gets what the grace leaves).</summary>
    public static readonly TimeSpan MaxSyncReserve = TimeSpan.FromSeconds(10);

    public static GroupEndPhases Of(RunClock clock)
    {
        long sync = RunClock.ToTicks(Math.Min(MaxSyncReserve.TotalSeconds, clock.DrainSeconds / 2));
        long syncFrom = clock.DeadlineTimestamp - sync;
        return new GroupEndPhases(syncFrom - RunClock.ToTicks(MaxSeqReserve.TotalSeconds), syncFrom);
    }
}
