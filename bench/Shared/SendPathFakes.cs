using QkChat.Core.Friends;
using QkChat.Core.Messaging;

namespace QkChat.Fakes;

/// <summary>
/// An <see cref="IMessageStore"/> stand-in for the write path alone (MessageWriter, MessagingService's send): a
/// subclass says how a batch is stored; the search indexer behind the writer finds nothing to repair and keeps no
/// terms; every read and status change is not supported, so a test that strays onto one fails loudly.
/// Compiled into tests/QkChat.Tests and bench/QkChat.Benchmarks alike (a linked file, like src/Shared): the tests
/// already depend on bench/ (QkChat.LoadGen), while a benchmark must not depend on the tests, and nothing references
/// the benchmarks project.
/// </summary>
internal abstract class WriteOnlyMessageStore : IMessageStore
{
    public abstract Task<StoreOutcome[]> InsertBatchAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct);

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

/// <summary>Stores nothing and answers at once, reusing its answer so the store adds no allocation of its own.</summary>
internal sealed class AnsweringMessageStore : WriteOnlyMessageStore
{
    private StoreOutcome[] _outcomes = new StoreOutcome[64];
    private Task<StoreOutcome[]> _answer = Task.FromResult(new StoreOutcome[64]);

    public override Task<StoreOutcome[]> InsertBatchAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct)
    {
        if (_outcomes.Length < batch.Count || _answer.Result != _outcomes)
        {
            _outcomes = new StoreOutcome[Math.Max(batch.Count, _outcomes.Length)];
            _answer = Task.FromResult(_outcomes);
        }
        for (int i = 0; i < batch.Count; i++) _outcomes[i] = new StoreOutcome(StoreResult.Stored, batch[i].MessageId, batch[i].Timestamp);
        return _answer;
    }
}

/// <summary>Two users who are friends and block nobody: a send between them passes the friendship and block checks.</summary>
internal sealed class TwoFriends(uint first, uint second) : IFriendLookup, IBlockLookup
{
    public Task<IReadOnlyList<uint>> BlockedWithAsync(uint userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<uint>>([]);

    public Task<bool> AreFriendsAsync(uint userId, uint otherId, CancellationToken ct) => Task.FromResult(true);

    public Task<IReadOnlyList<uint>> FriendIdsAsync(uint userId, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<uint>>([userId == first ? second : first]);
}
