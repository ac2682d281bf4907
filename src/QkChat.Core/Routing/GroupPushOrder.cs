using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Transport;

namespace QkChat.Core.Routing;

/// <summary>
/// Pushes each group's entries to this node's devices in seq order (docs/cluster.md, "Group order"). Entries of one
/// group are committed by several nodes' writers and reach this node on different paths (this node's own fan-out, and
/// every other node's channel), so seq 7 can come before seq 6. Per group it keeps the last seq pushed: the next one
/// goes out at once, a later one is held until the gap closes, and a gap still open after <see cref="HoldMs"/> is
/// filled from MariaDB (a committed seq implies every lower one is committed: seqs are taken under the group's lock).
/// A seq at or below the last is a duplicate (a late pub/sub copy of a filled entry) and dropped. A group's line
/// exists only while this node has pushed to it lately: the first push of an unknown group starts it (a node that
/// starts has no history to fill before it), and a line idle for <see cref="IdleMs"/> is forgotten.
/// Callable from any thread; the pushes of one group run under its line's lock, so they leave in order.
/// </summary>
public sealed partial class GroupPushOrder : IAsyncDisposable
{
    /// <summary>
    /// A line with nothing held and no push for this long is forgotten: 120 s, far beyond any pub/sub delay, so the entry
    /// that starts a new line has no lower seq still in flight, except when two nodes write the group's first entries
    /// after such a pause at the same moment (then the lower one is pushed late: counted in Late).
    /// </summary>
    public const long IdleMs = 120_000;

    /// <summary>
    /// A gap longer than this many seqs is not read back: that many pushes at once would swamp the devices, and a client
    /// that sees the jump in seq syncs (sync_group_messages) in pages. 500: the largest page sync_group_messages serves.
    /// </summary>
    public const int MaxFill = 500;

    /// <summary>Entries held in one group before its gap is filled at once, whatever the wait: bounds the memory one
    /// stalled group takes (4,096 pushes, each a shared frame reference).</summary>
    public const int MaxHeld = 4096;

    private readonly IDelivery _local;
    private readonly ILogger _logger;
    private readonly Func<long> _clock;
    private readonly ConcurrentDictionary<long, Line> _lines = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _ticker = Task.CompletedTask;

    /// <param name="local">This node's devices (LocalDelivery).</param>
    /// <param name="holdMs">How long an entry waits for a missing lower seq before the gap is read from MariaDB.</param>
    /// <param name="clock">Milliseconds, monotonic (tests drive their own).</param>
    public GroupPushOrder(IDelivery local, int holdMs, ILogger logger, Func<long>? clock = null)
    {
        _local = local;
        HoldMs = holdMs;
        _logger = logger;
        _clock = clock ?? (() => Environment.TickCount64);
    }

    public int HoldMs { get; }

    /// <summary>Where gaps are read from (set at composition: the group service is built after the delivery port). Null:
    /// a gap that outlasts the wait is skipped and counted.</summary>
    public IGroupGapSource? Gaps { get; set; }

    public GroupOrderStats Stats { get; } = new();

    /// <summary>Groups with a line (a gauge).</summary>
    public int Groups => _lines.Count;

    /// <summary>Deadlines are checked this often: a tenth of the wait (at least 5 ms), so a gap is filled within 110 % of it.</summary>
    private int TickMs => Math.Max(5, HoldMs / 10);

    /// <summary>The background deadline check (not started in unit tests, which call <see cref="Tick"/>).</summary>
    public void Start() => _ticker = Task.Run(TickLoopAsync);

    /// <summary>
    /// Pushes <paramref name="frame"/> (the caller's reference) to this node's devices of <paramref name="users"/> but
    /// <paramref name="except"/> when its turn in the group comes: now, or when the seqs before it were pushed. Returns the
    /// devices reached now, or the users when it is held.
    /// </summary>
    public int Push(GroupSeq at, ReadOnlySpan<uint> users, OutboundFrame frame, Session? except = null)
    {
        long now = _clock();
        while (true)
        {
            if (!_lines.TryGetValue(at.GroupId, out var line))
            {
                // Nobody here to order for, or a push about an entry this node never had: out at once, no line.
                if (at.Follows || !AnyoneHere(users)) return _local.ToUsers(users, frame, false, except);
                line = _lines.GetOrAdd(at.GroupId, static (_, seq) => new Line(seq - 1), at.Seq);
            }
            lock (line)
            {
                if (line.Gone) continue; // forgotten meanwhile: start a new one
                line.Touched = now;
                return at.Follows ? Follow(line, at.Seq, users, frame, except, now) : Add(line, at.Seq, users, frame, except, now);
            }
        }
    }

    /// <summary>
    /// Entry <paramref name="at"/> is stored but this node could not push it (its group's members were not read after the
    /// commit: GroupWriter). The next entry's push finds the gap and the fill reads it from MariaDB, which does not know
    /// the sending connection: without this, the fill pushes the entry to the very device that was answered `sent` for it
    /// (protocol.md §9: never the sending connection), a duplicate on that device. Remembers
    /// <paramref name="sender"/> until the seq is filled or passed. No line here: no fill will come (the next entry starts
    /// a line after it), nothing to remember.
    /// </summary>
    public void Unpushed(GroupSeq at, Session sender)
    {
        if (!_lines.TryGetValue(at.GroupId, out var line)) return;
        lock (line)
        {
            if (line.Gone || at.Seq <= line.Last) return;
            (line.Senders ??= [])[at.Seq] = sender;
        }
    }

    private bool AnyoneHere(ReadOnlySpan<uint> users)
    {
        foreach (uint user in users)
            if (_local.IsOnline(user)) return true;
        return false;
    }

    private int Add(Line line, long seq, ReadOnlySpan<uint> users, OutboundFrame frame, Session? except, long now)
    {
        if (seq <= line.Last)
        {
            // Already pushed (or given up on) here. Below the line's start it was never pushed: late, but not lost.
            if (seq < line.Start)
            {
                Stats.AddLate();
                return _local.ToUsers(users, frame, false, except);
            }
            Stats.AddDuplicate();
            frame.Release();
            return 0;
        }
        if (seq == line.Last + 1)
        {
            int sent = _local.ToUsers(users, frame, false, except);
            line.Last = seq;
            Drain(line, now);
            return sent;
        }
        var held = line.Held ??= new SortedList<long, Held>();
        if (!held.TryAdd(seq, new Held(users.ToArray(), frame, except)))
        {
            Stats.AddDuplicate();
            frame.Release();
            return 0;
        }
        Stats.AddHeld();
        if (line.Deadline == 0) line.Deadline = now + HoldMs;
        if (held.Count >= MaxHeld) line.Deadline = now; // filled at the next tick
        return users.Length;
    }

    /// <summary>
    /// A push about entry <paramref name="seq"/> (a recall) goes out after it: at once when it was pushed here, else when
    /// it is, or after the wait when it never comes (an entry nobody here gets is never pushed here).
    /// </summary>
    private int Follow(Line line, long seq, ReadOnlySpan<uint> users, OutboundFrame frame, Session? except, long now)
    {
        if (seq <= line.Last) return _local.ToUsers(users, frame, false, except);
        (line.Followers ??= []).Add(new Follower(seq, now + HoldMs, new Held(users.ToArray(), frame, except)));
        return users.Length;
    }

    /// <summary>Pushes the held entries that are next, and the pushes that follow what has been pushed.</summary>
    private void Drain(Line line, long now)
    {
        var held = line.Held;
        while (held is { Count: > 0 })
        {
            long first = held.Keys[0];
            if (first > line.Last + 1) break;
            var next = held.Values[0];
            held.RemoveAt(0);
            if (first <= line.Last) // read back from MariaDB meanwhile
            {
                Stats.AddDuplicate();
                next.Frame.Release();
                continue;
            }
            _local.ToUsers(next.Users, next.Frame, false, next.Except);
            line.Last = first;
        }
        // A gap still open got its wait when its first entry came; the clock restarts only for a new gap.
        if (held is not { Count: > 0 }) line.Deadline = 0;
        else if (line.Deadline == 0) line.Deadline = now + HoldMs;
        ReleaseFollowers(line, now);
    }

    private void ReleaseFollowers(Line line, long now)
    {
        if (line.Followers is not { Count: > 0 } followers) return;
        for (int i = 0; i < followers.Count; i++)
        {
            if (followers[i].Seq > line.Last && followers[i].Until > now) continue;
            var f = followers[i].Push;
            _local.ToUsers(f.Users, f.Frame, false, f.Except);
            followers.RemoveAt(i--);
        }
    }

    /// <summary>Starts the fill of every gap whose wait is over, and forgets idle lines. The task completes when the fills
    /// it started are done (the background loop does not wait for it; tests do).</summary>
    public Task Tick()
    {
        long now = _clock();
        List<Task>? fills = null;
        foreach (var (groupId, line) in _lines)
        {
            lock (line)
            {
                if (line.Filling) continue;
                ReleaseFollowers(line, now);
                if (line.Held is { Count: > 0 } held)
                {
                    if (now < line.Deadline) continue;
                    line.Filling = true;
                    (fills ??= []).Add(FillAsync(groupId, line, line.Last, held.Keys[^1]));
                }
                else if (now - line.Touched >= IdleMs && line.Followers is not { Count: > 0 })
                {
                    line.Gone = true;
                    _lines.TryRemove(new KeyValuePair<long, Line>(groupId, line));
                }
            }
        }
        return fills is null ? Task.CompletedTask : Task.WhenAll(fills);
    }

    /// <summary>Reads the seqs between <paramref name="last"/> and <paramref name="until"/> from MariaDB and pushes them in order
    /// with what was held; a read that fails, or a gap too long to read, is skipped (counted and logged): clients sync.</summary>
    private async Task FillAsync(long groupId, Line line, long last, long until)
    {
        IReadOnlyList<GapEntry>? entries = null;
        string? failure = null;
        await Task.Yield(); // never under the caller's lock
        if (until - last - 1 > MaxFill) failure = $"{until - last - 1} seqs missing, more than {MaxFill}";
        else if (Gaps is not { } gaps) failure = "no timeline to read";
        else
            try
            {
                Stats.AddFill();
                entries = await gaps.EntriesAsync(groupId, last, until, _stop.Token);
            }
            catch (Exception e)
            {
                failure = e.Message;
            }
        lock (line)
        {
            line.Filling = false;
            var held = line.Held ??= new SortedList<long, Held>();
            foreach (var entry in entries ?? [])
            {
                // The device that sent an entry this node never pushed (Unpushed) has it from its answer.
                Session? sender = line.Senders?.GetValueOrDefault(entry.Seq);
                if (entry.Seq <= line.Last || !held.TryAdd(entry.Seq, new Held(entry.Users, entry.Frame, sender))) entry.Frame.Release();
                else Stats.AddFilled();
            }
            // What MariaDB did not return up to the newest held seq has no entry anyone here gets (or was given up on).
            long skipped = 0;
            while (held.Count > 0 && held.Keys[0] <= until)
            {
                if (held.Keys[0] > line.Last + 1)
                {
                    skipped += held.Keys[0] - line.Last - 1;
                    line.Last = held.Keys[0] - 1;
                }
                Drain(line, _clock());
            }
            // Senders of seqs now pushed or given up on are not needed any more.
            if (line.Senders is { } senders)
                foreach (long seq in senders.Keys.Where(k => k <= line.Last).ToList()) senders.Remove(seq);
            // Entries that came meanwhile behind a new gap get a wait of their own.
            line.Deadline = held.Count > 0 ? _clock() + HoldMs : 0;
            if (failure is not null)
            {
                Stats.AddSkipped(skipped);
                LogGapSkipped(_logger, groupId, skipped, failure);
            }
        }
    }

    private async Task TickLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(TickMs));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    _ = Tick();
                }
                catch (Exception e)
                {
                    LogTickFailed(_logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _ticker;
        foreach (var (_, line) in _lines)
            lock (line)
            {
                foreach (var held in line.Held?.Values ?? []) held.Frame.Release();
                foreach (var follower in line.Followers ?? []) follower.Push.Frame.Release();
                line.Held?.Clear();
                line.Followers?.Clear();
            }
        _stop.Dispose();
    }

    /// <summary>A push waiting for its turn (its own copy of the users: the caller's span is gone by then).</summary>
    private sealed record Held(uint[] Users, OutboundFrame Frame, Session? Except);

    /// <summary>A push that goes out once entry <see cref="Seq"/> was pushed here, or at <see cref="Until"/>.</summary>
    private sealed record Follower(long Seq, long Until, Held Push);

    /// <summary>One group's order on this node; every field under the line's lock.</summary>
    private sealed class Line(long last)
    {
        /// <summary>The highest seq pushed or given up on.</summary>
        public long Last = last;

        /// <summary>Where the line started: a seq below it was never pushed by this line.</summary>
        public readonly long Start = last + 1;

        public long Touched;
        public SortedList<long, Held>? Held;
        public List<Follower>? Followers;

        /// <summary>The sending device of each seq stored but not pushed here (<see cref="Unpushed"/>), until it is filled.</summary>
        public Dictionary<long, Session>? Senders;

        /// <summary>When the open gap's wait ends (0: no gap).</summary>
        public long Deadline;
        public bool Filling;
        public bool Gone;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "group {GroupId}: {Seqs} seq(s) missing on this node were skipped, not pushed ({Reason}); members catch up by sync_group_messages")]
    private static partial void LogGapSkipped(ILogger logger, long groupId, long seqs, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "group push order: the deadline check failed: {Error}")]
    private static partial void LogTickFailed(ILogger logger, string error);
}

/// <summary>What <see cref="GroupPushOrder"/> did (/metrics: qkchat_group_order_*; docs/cluster.md, "What to watch").</summary>
public sealed class GroupOrderStats
{
    private long _held, _fills, _filled, _skipped, _duplicates, _late;

    /// <summary>Entries that came ahead of a gap and waited.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Gaps read from MariaDB because their wait ran out.</summary>
    public long Fills => Interlocked.Read(ref _fills);

    /// <summary>Entries pushed from MariaDB into a gap (their pub/sub copy was lost or late).</summary>
    public long Filled => Interlocked.Read(ref _filled);

    /// <summary>Seqs given up on without a push (MariaDB did not answer, or the gap was too long): clients sync.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Pushes dropped because their seq was pushed already.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Entries below the seq a group's line started at, pushed out of order (see <see cref="GroupPushOrder.IdleMs"/>).</summary>
    public long Late => Interlocked.Read(ref _late);

    internal void AddHeld() => Interlocked.Increment(ref _held);
    internal void AddFill() => Interlocked.Increment(ref _fills);
    internal void AddFilled() => Interlocked.Increment(ref _filled);
    internal void AddSkipped(long n) => Interlocked.Add(ref _skipped, n);
    internal void AddDuplicate() => Interlocked.Increment(ref _duplicates);
    internal void AddLate() => Interlocked.Increment(ref _late);
}
