using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Benchmarks;

/// <summary>
/// One send_group_message to a group of <see cref="Members"/> users, each with one device on an in-memory connection,
/// through the server's own path: frame parse and field rules, the write-behind GroupWriter on its own thread, the
/// member cache, the fan-out (one frame, serialized once, one reference per device) through LocalDelivery into each
/// receiver's reactor inbox and send queue, and the `sent` answer. Only MariaDB is replaced (an in-memory stand-in
/// that reuses its answer). Issue 18's question: allocation per fanned-out entry, which must not grow with the group
/// (tests/QkChat.Tests/Core/GroupFanOutAllocationTests.cs enforces 0 bytes per device exactly).
/// </summary>
[MemoryDiagnoser]
public class GroupFanOutBenchmark
{
    private const long GroupId = 1;
    private const uint FirstMember = 100_000_001;
    private InMemoryConnection _sender = null!;
    private InMemoryConnection[] _receivers = [];
    private GroupService _groups = null!;
    private byte[] _frame = [];

    [Params(10, 100, 1000)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var router = new ActionRouter();
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2 },
            router, NullLogger.Instance);
        var live = new LiveSessions();
        uint[] ids = [.. Enumerable.Range(0, Members).Select(i => FirstMember + (uint)i)];
        _groups = new GroupService(new GroupOptions(), new MessagingOptions(), new MemoryGroupStore(ids), new MessageIds(),
            new FriendSetCache(new NoFriends()), new LocalDelivery(live), new PresenceTracker(), NullLogger.Instance);
        _groups.Register(router);
        _sender = SignedIn(dispatcher, live, ids[0]);
        _receivers = [.. ids.Skip(1).Select(id => SignedIn(dispatcher, live, id))];
        _frame = Framing.Encode("""{"action":"send_group_message","request_id":"42","group_id":1,"content":"hello everyone, how are you today?"}"""u8);
    }

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

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        foreach (var receiver in _receivers) receiver.Dispose();
        _groups.DisposeAsync().AsTask().Wait();
    }

    [Benchmark(Description = "send_group_message: sent answer + group_message to every other member's device")]
    public int FanOutOneEntry()
    {
        _sender.Receive(_frame);
        int responses = 0, pushes = 0;
        while (true)
        {
            _sender.RunPending();
            responses += _sender.DiscardOutput();
            foreach (var receiver in _receivers)
            {
                receiver.RunPending();
                pushes += receiver.DiscardOutput();
            }
            if (responses > 0 && pushes == _receivers.Length) return responses + pushes;
            Thread.SpinWait(20);
        }
    }

    private sealed class NoFriends : IFriendLookup
    {
        public Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) => Task.FromResult(false);

        public Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<uint>>([]);
    }

    /// <summary>
    /// One group whose members all joined at seq 1; each append is stored at the next seq. Reuses its answer (one entry
    /// per batch here), so the stand-in adds no allocation of its own.
    /// </summary>
    private sealed class MemoryGroupStore(uint[] members) : IGroupStore
    {
        private readonly GroupMembership _membership = new(members, [.. members.Select(_ => GroupRole.Member)], [.. members.Select(_ => 1L)]);
        private readonly AppendOutcome[] _one = new AppendOutcome[1];
        private Task<AppendOutcome[]>? _oneAnswer;
        private long _seq = 1;

        public Task<AppendOutcome[]> AppendAsync(IReadOnlyList<NewGroupEntry> batch, CancellationToken ct)
        {
            var outcomes = batch.Count == 1 ? _one : new AppendOutcome[batch.Count];
            for (int i = 0; i < batch.Count; i++) outcomes[i] = new AppendOutcome(AppendResult.Stored, ++_seq, batch[i].MessageId, batch[i].Timestamp);
            return outcomes == _one ? _oneAnswer ??= Task.FromResult(_one) : Task.FromResult(outcomes);
        }

        public Task<GroupMembership> MembershipAsync(long groupId, CancellationToken ct) =>
            Task.FromResult(groupId == GroupId ? _membership : GroupMembership.Empty);

        public Task<long> NewestMessageIdAsync(CancellationToken ct) => Task.FromResult(0L);

        // The search indexer behind the writer (GroupSearchIndexer) writes terms here: nothing to keep.
        public Task IndexAsync(IReadOnlyList<IndexedGroupEntry> entries, CancellationToken ct) => Task.CompletedTask;
        public Task<IReadOnlyList<IndexedGroupEntry>> UnindexedAsync(int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<IndexedGroupEntry>>([]);
        public Task<IReadOnlyList<IndexedGroupEntry>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<IndexedGroupEntry>>([]);

        public Task<GroupCreated> CreateAsync(uint ownerId, string name, IReadOnlyList<uint> memberIds, EntryStamp created, EntryStamp membersAdded,
            long now, CancellationToken ct) => throw new NotSupportedException();
        public Task<MembersAdded> AddMembersAsync(long groupId, uint actorId, IReadOnlyList<uint> userIds, int maxMembers, EntryStamp stamp,
            CancellationToken ct) => throw new NotSupportedException();
        public Task<GroupChange> RemoveMemberAsync(long groupId, uint actorId, uint userId, EntryStamp stamp, CancellationToken ct) =>
            throw new NotSupportedException();
        public Task<GroupChange> LeaveAsync(long groupId, uint userId, EntryStamp stamp, CancellationToken ct) => throw new NotSupportedException();
        public Task<GroupChange> SetRoleAsync(long groupId, uint actorId, uint userId, GroupRole role, EntryStamp stamp, CancellationToken ct) =>
            throw new NotSupportedException();
        public Task<GroupChange> TransferOwnerAsync(long groupId, uint actorId, uint newOwnerId, EntryStamp stamp, CancellationToken ct) =>
            throw new NotSupportedException();
        public Task<GroupChange> RenameAsync(long groupId, uint actorId, string name, EntryStamp stamp, CancellationToken ct) =>
            throw new NotSupportedException();
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
        public Task<GroupRecall> RecallAsync(long groupId, long seq, uint actorId, long now, CancellationToken ct) =>
            throw new NotSupportedException();
    }
}
