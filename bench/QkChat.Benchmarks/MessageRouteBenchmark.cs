using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Messaging;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Benchmarks;

/// <summary>
/// One send_message routed through the server's own path, in memory: frame parse, field rules, the cached
/// friendship check, the write-behind queue and its writer thread, the `sent` response to the sender and the
/// `message` push to the receiver. The store is an in-memory stand-in, so the database driver is excluded
/// (issue 5's allocation budget: under 100 B per routed message). Both connections live on this thread's reactors.
/// </summary>
[MemoryDiagnoser]
public class MessageRouteBenchmark
{
    private const uint Alice = 111_111_111, Bob = 222_222_222;
    private InMemoryConnection _sender = null!, _receiver = null!;
    private MessagingService _messaging = null!;
    private byte[] _frame = [];

    [GlobalSetup]
    public void Setup()
    {
        var router = new ActionRouter();
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = int.MaxValue / 2, RequestBurst = int.MaxValue / 2 },
            router, NullLogger.Instance);
        var live = new LiveSessions();
        var friends = new FriendSetCache(new TwoFriends());
        var blocks = new BlockSetCache(new TwoFriends());
        _messaging = new MessagingService(new MessagingOptions(), new MemoryStore(), friends, blocks, new LocalDelivery(live), new PresenceTracker(), NullLogger.Instance);
        _messaging.Register(router, dispatcher);
        _sender = SignedIn(dispatcher, live, Alice);
        _receiver = SignedIn(dispatcher, live, Bob);
        friends.FriendsOfAsync(Alice, CancellationToken.None).AsTask().Wait();
        blocks.IsBlockedAsync(Alice, Bob, CancellationToken.None).AsTask().Wait();
        _frame = Framing.Encode("""{"action":"send_message","request_id":"42","receiver_id":222222222,"content":"hello, how are you today?","type":"text","client_msg_id":"c-0001"}"""u8);
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
        _receiver.Dispose();
        _messaging.DisposeAsync().AsTask().Wait();
    }

    [Benchmark(Description = "send_message: sent response + message push")]
    public int RouteOneMessage()
    {
        Receive();
        return AwaitAnswerAndPush();
    }

    /// <summary>The sender's frame through the dispatcher into the send path (AllocationSources measures the halves).</summary>
    public void Receive() => _sender.Receive(_frame);

    /// <summary>Runs both connections' inboxes until the `sent` answer and the `message` push are queued.</summary>
    public int AwaitAnswerAndPush()
    {
        int responses = 0, pushes = 0;
        while (true)
        {
            _sender.RunPending();
            _receiver.RunPending();
            responses += _sender.DiscardOutput();
            pushes += _receiver.DiscardOutput();
            if (responses > 0 && pushes > 0) return responses + pushes;
            Thread.SpinWait(20);
        }
    }

    private sealed class TwoFriends : IFriendLookup, IBlockLookup
    {
        public Task<IReadOnlyList<uint>> BlockedWithAsync(uint userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<uint>>([]);

        public Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) => Task.FromResult(true);

        public Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<uint>>([userId == Alice ? Bob : Alice]);
    }

    /// <summary>Stores nothing and answers at once, reusing its answer so the store adds no allocation of its own.</summary>
    private sealed class MemoryStore : IMessageStore
    {
        private StoreOutcome[] _outcomes = new StoreOutcome[64];
        private Task<StoreOutcome[]> _answer = Task.FromResult(new StoreOutcome[64]);

        public Task<StoreOutcome[]> InsertBatchAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct)
        {
            if (_outcomes.Length < batch.Count || _answer.Result != _outcomes)
            {
                _outcomes = new StoreOutcome[Math.Max(batch.Count, _outcomes.Length)];
                _answer = Task.FromResult(_outcomes);
            }
            for (int i = 0; i < batch.Count; i++) _outcomes[i] = new StoreOutcome(StoreResult.Stored, batch[i].MessageId, batch[i].Timestamp);
            return _answer;
        }

        public Task<long> NewestMessageIdAsync(CancellationToken ct) => Task.FromResult(0L);
        public Task IndexAsync(IReadOnlyList<NewMessage> messages, CancellationToken ct) => Task.CompletedTask;
        public Task<IReadOnlyList<NewMessage>> UnindexedAsync(int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<NewMessage>>([]);
        public Task<IReadOnlyList<NewMessage>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<NewMessage>>([]);
        public Task<IReadOnlyList<StatusChange>> MarkDeliveredAsync(IReadOnlyList<DeliveryAck> acks, CancellationToken ct) => throw new NotSupportedException();
        public Task<int> MarkReadAsync(uint readerId, uint peerId, long upToMessageId, CancellationToken ct) => throw new NotSupportedException();
        public Task<MessageRecord?> FindAsync(uint userId, long messageId, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> RecallAsync(uint senderId, long messageId, long at, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<MessageRecord>> HistoryAsync(uint userId, uint peerId, int limit, int offset, long? beforeMessageId, long visibleBelow, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<MessageRecord>> SyncAsync(uint userId, long afterMessageId, long beforeMessageId, int limit, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<MessageRecord>> UndeliveredAsync(uint userId, long afterMessageId, long beforeMessageId, int limit, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<ConversationSummary>> ConversationsAsync(uint userId, int limit, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<MessageRecord>> SearchAsync(uint userId, uint? peerId, string query, int limit, CancellationToken ct) => throw new NotSupportedException();
        public Task<DeleteOutcome> DeleteForUserAsync(uint userId, long messageId, long at, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<UnreadCount>> UnreadCountsAsync(uint userId, CancellationToken ct) => throw new NotSupportedException();
    }
}
