using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Tests.Core;

/// <summary>
/// One group of <c>members</c> users, each with one device on an in-memory connection, behind the server's own group
/// path: the sender's send_group_message frames go through the dispatcher into GroupService, its GroupWriter, the
/// member cache, the fan-out and the real <see cref="LocalDelivery"/> into every receiver's send queue. Only MariaDB is
/// replaced, by <see cref="GatedGroupStore"/>. Every connection's reactor is the thread that builds the rig, so when
/// the writer runs on that thread (see <see cref="GatedGroupStore.Open"/>) each push goes straight into a send queue.
/// </summary>
internal sealed class GroupFanOutRig : IDisposable
{
    public const long GroupId = 1;
    public const uint FirstMember = 100_000_001;

    private readonly GroupService _groups;
    private readonly byte[] _send = Framing.Encode("""{"action":"send_group_message","request_id":"7","group_id":1,"content":"hello, group of many"}"""u8);

    public GroupFanOutRig(int members)
    {
        var router = new ActionRouter();
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2 }, router,
            NullLogger.Instance);
        var live = new LiveSessions();
        var ids = Enumerable.Range(0, members).Select(i => FirstMember + (uint)i).ToArray();
        Store = new GatedGroupStore(ids);
        _groups = new GroupService(new GroupOptions(), new MessagingOptions(), Store, new MessageIds(), new FriendSetCache(new NoFriends()),
            new LocalDelivery(live), new PresenceTracker(), NullLogger.Instance);
        _groups.Register(router);
        Sender = SignedIn(dispatcher, live, ids[0]);
        Receivers = [.. ids.Skip(1).Select(id => SignedIn(dispatcher, live, id))];
    }

    public GatedGroupStore Store { get; }

    public InMemoryConnection Sender { get; }

    /// <summary>Every member's device but the sender's (who is not pushed its own entry).</summary>
    public InMemoryConnection[] Receivers { get; }

    private static InMemoryConnection SignedIn(Dispatcher dispatcher, LiveSessions live, uint user)
    {
        var connection = new InMemoryConnection(dispatcher);
        var session = (Session)connection.Connection.State!;
        session.LoggedIn = true;
        session.UserId = user;
        session.ClientId = "phone";
        live.Register(user, "phone", connection.Connection);
        return connection;
    }

    /// <summary>
    /// Makes the writer hold <paramref name="entries"/> sends in one store call, waiting in it for <see cref="FanOutHeld"/>.
    /// A plug send goes first and is held alone while the entries are queued behind it; letting the plug go (its pushes
    /// taken here, not measured) makes the writer take all the queued entries in its next batch, held in turn. So
    /// whichever thread the writer wakes on, and however late, the measured batch is whole and its writer is parked.
    /// </summary>
    public void HoldBatch(int entries)
    {
        Store.Close();
        Sender.Receive(_send);
        Store.WaitUntilHeld();
        byte[] frames = [.. Enumerable.Repeat(_send, entries).SelectMany(f => f)];
        if (Sender.Receive(frames) != frames.Length)
            throw new InvalidOperationException($"the sender's input paused: at most {Dispatcher.MaxPipelined} sends may be in flight, the plug included");
        Store.Close();
        Store.Open();
        Store.WaitUntilHeld();
        TakeOutput(1);
    }

    /// <summary>
    /// Lets the held writer go: it stores and fans out the held batch on this thread before this returns (the writer
    /// awaited the store before <see cref="GatedGroupStore.WaitUntilHeld"/> returned), which is what
    /// GroupFanOutAllocationTests measures; <see cref="FannedOutHere"/> checks it.
    /// </summary>
    public void FanOutHeld() => Store.Open();

    /// <summary>
    /// After <see cref="FanOutHeld"/>: true when the writer ran on this thread (every receiver has
    /// <paramref name="pushes"/> frames queued without its inbox being run).
    /// </summary>
    public bool FannedOutHere(int pushes) => Receivers.All(receiver => receiver.Connection.Queued.Count == pushes);

    /// <summary>
    /// Every receiver's <paramref name="pushes"/> pushes, taken from its inbox too when the writer ran elsewhere and
    /// posted them there (30 s at most), then dropped; the sender's answers likewise.
    /// </summary>
    public void TakeOutput(int pushes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var receiver in Receivers)
        {
            while (receiver.Connection.Queued.Count < pushes)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"a receiver got {receiver.Connection.Queued.Count} of {pushes} pushes");
                if (receiver.RunPending() == 0) Thread.Sleep(1);
            }
        }
        ExpectQueuedPushes(pushes);
    }

    /// <summary>
    /// Drops what each receiver has queued and checks that each got <paramref name="pushes"/> frames; then takes the
    /// sender's answers.
    /// </summary>
    private void ExpectQueuedPushes(int pushes)
    {
        foreach (var receiver in Receivers)
        {
            int queued = receiver.DiscardOutput();
            if (queued != pushes) throw new InvalidOperationException($"a receiver had {queued} pushes queued, not {pushes}");
        }
        // The sender's answers (`sent`) come back through its reactor's inbox when the writer is elsewhere.
        Sender.RunPending();
        Sender.DiscardOutput();
    }

    /// <summary>On the thread that built the rig (the connections' reactor).</summary>
    public void Dispose()
    {
        Sender.Dispose();
        foreach (var receiver in Receivers) receiver.Dispose();
        _groups.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private sealed class NoFriends : IFriendLookup
    {
        public Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) => Task.FromResult(false);

        public Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<uint>>([]);
    }
}

/// <summary>
/// MariaDB's stand-in for the fan-out: one group whose members all joined at seq 1, and appends that store each entry
/// at the next seq. <see cref="Close"/> makes the next append wait until <see cref="Open"/>, which completes it on the
/// calling thread: the writer's continuation (and with it the rest of the queue) then runs there, synchronously.
/// </summary>
/// <remarks>
/// That holds only if the writer awaited the append before <see cref="Open"/>; had it not yet, it would find the answer
/// there and go on on its own thread (on a loaded box, the thread the writer wakes on may wait tens of milliseconds
/// for a core between the append and its await). So <see cref="WaitUntilHeld"/> does not return when the append is
/// called but when the writer has awaited it: the held append sets an AsyncLocal, and the value is taken back (with a
/// change notification on that thread) when the writer's async WriteAsync returns to its caller, which it does only
/// after registering its continuation on the held task. No clock, no sleep, no hook in the writer.
/// </remarks>
internal sealed class GatedGroupStore : IGroupStore
{
    private readonly GroupMembership _membership;
    private readonly ManualResetEventSlim _held = new();
    private readonly AsyncLocal<int> _holding;
    private bool _closed;
    private TaskCompletionSource<AppendOutcome[]>? _gate;
    private AppendOutcome[] _heldOutcomes = [];
    private long _seq = 1;
    private int _holds;

    public GatedGroupStore(uint[] members)
    {
        _membership = new(members, [.. members.Select(_ => GroupRole.Member)], [.. members.Select(_ => 1L)]);
        _holding = new AsyncLocal<int>(WriterLeft);
    }

    public void Close() => _closed = true;

    /// <summary>Waits (30 s at most) for the writer to await the held append.</summary>
    public void WaitUntilHeld()
    {
        if (!_held.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("the group writer never awaited the held append");
        _held.Reset();
    }

    public void Open()
    {
        var gate = _gate ?? throw new InvalidOperationException("nothing is held");
        _gate = null;
        gate.SetResult(_heldOutcomes);
    }

    /// <summary>The held append's value leaves the writer's thread: its WriteAsync awaited the append and returned.</summary>
    private void WriterLeft(AsyncLocalValueChangedArgs<int> change)
    {
        // A context change only (not the set below), and the hold still waited for (not its continuation's later runs).
        if (change.ThreadContextChanged && change.PreviousValue > 0
            && Interlocked.CompareExchange(ref _holds, -change.PreviousValue, change.PreviousValue) == change.PreviousValue)
            _held.Set();
    }

    public Task<AppendOutcome[]> AppendAsync(IReadOnlyList<NewGroupEntry> batch, CancellationToken ct)
    {
        var outcomes = new AppendOutcome[batch.Count];
        for (int i = 0; i < batch.Count; i++) outcomes[i] = new AppendOutcome(AppendResult.Stored, ++_seq, batch[i].MessageId, batch[i].Timestamp);
        if (!_closed) return Task.FromResult(outcomes);
        // Without RunContinuationsAsynchronously: SetResult runs the writer's continuation on Open's thread.
        _closed = false;
        _heldOutcomes = outcomes;
        _gate = new TaskCompletionSource<AppendOutcome[]>();
        int hold = Math.Abs(_holds) + 1;
        Volatile.Write(ref _holds, hold);
        _holding.Value = hold;
        return _gate.Task;
    }

    public Task<GroupMembership> MembershipAsync(long groupId, CancellationToken ct) =>
        Task.FromResult(groupId == GroupFanOutRig.GroupId ? _membership : GroupMembership.Empty);

    public Task<long> NewestMessageIdAsync(CancellationToken ct) => Task.FromResult(0L);

    // The search indexer behind the writer (GroupSearchIndexer) writes terms here: nothing to keep.
    public Task IndexAsync(IReadOnlyList<IndexedGroupEntry> entries, CancellationToken ct) => Task.CompletedTask;
    public Task<IReadOnlyList<IndexedGroupEntry>> UnindexedAsync(int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<IndexedGroupEntry>>([]);
    public Task<IReadOnlyList<IndexedGroupEntry>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<IndexedGroupEntry>>([]);

    public Task<GroupCreated> CreateAsync(uint ownerId, string name, IReadOnlyList<uint> memberIds, EntryStamp created, EntryStamp membersAdded,
        long now, CancellationToken ct) => throw new NotSupportedException();
    public Task<MembersAdded> AddMembersAsync(long groupId, uint actorId, IReadOnlyList<uint> userIds, int maxMembers, EntryStamp stamp,
        CancellationToken ct) => throw new NotSupportedException();
    public Task<GroupChange> RemoveMemberAsync(long groupId, uint actorId, uint userId, EntryStamp stamp, CancellationToken ct) => throw new NotSupportedException();
    public Task<GroupChange> LeaveAsync(long groupId, uint userId, EntryStamp stamp, CancellationToken ct) => throw new NotSupportedException();
    public Task<GroupChange> SetRoleAsync(long groupId, uint actorId, uint userId, GroupRole role, EntryStamp stamp, CancellationToken ct) =>
        throw new NotSupportedException();
    public Task<GroupChange> TransferOwnerAsync(long groupId, uint actorId, uint newOwnerId, EntryStamp stamp, CancellationToken ct) =>
        throw new NotSupportedException();
    public Task<GroupChange> RenameAsync(long groupId, uint actorId, string name, EntryStamp stamp, CancellationToken ct) => throw new NotSupportedException();
    public Task<GroupDissolved> DissolveAsync(long groupId, uint actorId, long now, CancellationToken ct) => throw new NotSupportedException();
    public Task<GroupInfo?> InfoAsync(long groupId, uint userId, CancellationToken ct) => throw new NotSupportedException();
    public Task<IReadOnlyList<GroupEntry>?> HistoryAsync(long groupId, uint userId, long? beforeSeq, int limit, CancellationToken ct) =>
        throw new NotSupportedException();
    public Task<IReadOnlyList<GroupEntry>?> SyncAsync(long groupId, uint userId, long afterSeq, int limit, CancellationToken ct) =>
        throw new NotSupportedException();
    public Task<GroupMemberPage?> MembersAsync(long groupId, uint userId, uint? afterUserId, int limit, CancellationToken ct) =>
        throw new NotSupportedException();
    public Task<IReadOnlyList<uint>> MemberIdsAsync(long groupId, CancellationToken ct) => throw new NotSupportedException();
    public Task<IReadOnlyList<GroupSummary>> MyGroupsAsync(uint userId, CancellationToken ct) => throw new NotSupportedException();
    public Task<long?> MarkReadAsync(long groupId, uint userId, long upToSeq, CancellationToken ct) => throw new NotSupportedException();
    public Task<IReadOnlyList<long>> MyGroupIdsAsync(uint userId, CancellationToken ct) => throw new NotSupportedException();
    public Task<IReadOnlyList<GroupEntry>?> SearchAsync(uint userId, long? groupId, string? query, int limit, CancellationToken ct) =>
        throw new NotSupportedException();
    public Task<GroupRecall> RecallAsync(long groupId, long seq, uint actorId, long now, CancellationToken ct) => throw new NotSupportedException();
}
