namespace QkChat.LoadGen.Scenarios;

/// <summary>One group of the run in this process: its members (connections [Index * size, ...)), the group id once
/// created, the seq it stood at when sending began, the highest seq a sender was answered, and its fan-out timing.</summary>
public sealed class GroupState(int index, int size)
{
    private long _groupId, _highestSent, _maxSeq = -1;
    private int _loggedIn;

    public int Index { get; } = index;
    public GroupMember?[] Members { get; } = new GroupMember?[size];

    /// <summary>Every member but the sending connection gets each entry pushed.</summary>
    public GroupFanout Fanout { get; } = new(size - 1);

    public long GroupId { get => Interlocked.Read(ref _groupId); set => Interlocked.Exchange(ref _groupId, value); }

    /// <summary>The group's seq when it was set up (before the first send); -1 until then.</summary>
    public long BaseSeq { get; set; } = -1;

    public bool Ready => BaseSeq >= 0;

    public long HighestSent => Interlocked.Read(ref _highestSent);

    /// <summary>The group's max_seq read at the end (get_group_info); -1 until then.</summary>
    public long MaxSeq { get => Interlocked.Read(ref _maxSeq); set => Interlocked.Exchange(ref _maxSeq, value); }

    /// <summary>One more member logged in; true for the last one (which sets the group up).</summary>
    public bool LoggedIn() => Interlocked.Increment(ref _loggedIn) == Members.Length;

    public void SentSeq(long seq)
    {
        long seen = Interlocked.Read(ref _highestSent);
        while (seq > seen)
        {
            long was = Interlocked.CompareExchange(ref _highestSent, seq, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
