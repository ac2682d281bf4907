using System.Runtime.InteropServices;
using HdrHistogram;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>group: this process's counters beyond <see cref="RunStats"/> (which holds the send latency and errors).
/// Updated from many connections at once, so every field is changed with Interlocked only.</summary>
public sealed class GroupCounters
{
    public long Sent, SentOk, SentOkWindow, SendErrors, BusyRetries, DeliveredWindow, Stale, GroupsReady, SetupErrors,
        MaxSeqUnread, Unconfirmed;

    /// <summary>Send request to each member's push, microseconds, for pushes arriving inside the window.</summary>
    public LongConcurrentHistogram DeliveryLatency { get; } = RunStats.NewHistogram();

    /// <summary>Send request to the push that reached the entry's last member, for entries completed inside the window.</summary>
    public LongConcurrentHistogram LastMemberLatency { get; } = RunStats.NewHistogram();
}

/// <summary>
/// One group's entries on their way to its members: per seq, how many members got the push and when the latest did.
/// Once every receiver has it (every member but the sending connection), the entry's send-to-last-member time is
/// known and it leaves the table. An entry that some member never gets stays until the end, where it is a loss in
/// that member's ledger and no last-member time. Groups never span processes, so this sees every member.
/// </summary>
public sealed class GroupFanout(int receivers)
{
    private struct Entry
    {
        public long SentMicros, LastMicros;
        public int Count;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<long, Entry> _entries = [];

    /// <summary>Entries still waiting for some member.</summary>
    public int Open { get { lock (_lock) return _entries.Count; } }

    /// <summary>A first push of <paramref name="seq"/> to one member at <paramref name="arrivedMicros"/>; returns the
    /// send-to-last-member time when this was the last receiver, else null.</summary>
    public long? Arrived(long seq, long sentMicros, long arrivedMicros)
    {
        lock (_lock)
        {
            ref Entry e = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, seq, out bool existed);
            if (!existed) e.SentMicros = sentMicros;
            e.Count++;
            e.LastMicros = Math.Max(e.LastMicros, arrivedMicros);
            if (e.Count < receivers) return null;
            long last = e.LastMicros - e.SentMicros;
            _entries.Remove(seq);
            return last;
        }
    }
}
