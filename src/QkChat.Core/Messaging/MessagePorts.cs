namespace QkChat.Core.Messaging;

/// <summary>Message status on the wire and in the `status` column.</summary>
public enum MessageStatus : byte
{
    Sent = 1,
    Delivered = 2,
    Read = 3,
}

/// <summary>A message as stored and as pushed (protocol.md §5 message object).</summary>
/// <remarks>A `file` message has <see cref="FileId"/>, and <see cref="File"/> once its file's row is read with it.</remarks>
public sealed record MessageRecord(long MessageId, uint SenderId, uint ReceiverId, string Content, string Type, long Timestamp,
    MessageStatus Status, bool Recalled, long? FileId = null, QkChat.Core.Files.StoredFile? File = null);

/// <summary>What the database holds for one message of a batch, read back after the INSERT (never assumed from it).</summary>
public enum StoreResult : byte
{
    /// <summary>Its own row, as given: answer `sent` and deliver.</summary>
    Stored,

    /// <summary>
    /// It repeated a stored (sender, client_msg_id), compared byte for byte: the outcome carries the stored message's
    /// id and timestamp; nothing new was stored or is delivered.
    /// </summary>
    Duplicate,

    /// <summary>Skipped for another reason (its message_id was already taken): no row, never answered `sent`.</summary>
    NotStored,
}

/// <summary>What storing one message of a batch did, with the id and timestamp to answer (the stored one for a duplicate).</summary>
public readonly record struct StoreOutcome(StoreResult Result, long MessageId, long Timestamp);

/// <summary>A message whose status an action changed, with its sender (who is told) and receiver.</summary>
public readonly record struct StatusChange(long MessageId, uint SenderId, uint ReceiverId);

/// <summary>One message_ack: the acking user and the ids they acknowledge.</summary>
public readonly record struct DeliveryAck(uint ReceiverId, long[] MessageIds);

public sealed record ConversationSummary(uint PeerId, string PeerName, MessageRecord LastMessage, int UnreadCount);

/// <summary>What delete_message found: the message is not in the user's conversations, was deleted now, or before.</summary>
public enum DeleteOutcome
{
    NotFound,
    Deleted,
    AlreadyDeleted,
}

/// <summary>Unread messages from one peer (get_unread_counts).</summary>
public readonly record struct UnreadCount(uint PeerId, int Unread);

/// <summary>Messages in MariaDB. Every method is scoped to the calling user, so no query can reach another's conversation.</summary>
public interface IMessageStore
{
    /// <summary>
    /// Stores a batch in one transaction (durable when it returns); outcomes in batch order, each from what the
    /// database holds after the insert.
    /// </summary>
    Task<StoreOutcome[]> InsertBatchAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct);

    /// <summary>The largest stored message id (0 when there is none): the high-water mark new ids must stay above.</summary>
    Task<long> NewestMessageIdAsync(CancellationToken ct);

    /// <summary>Writes the search terms of stored messages (idempotent: a message indexed twice is indexed once).</summary>
    Task IndexAsync(IReadOnlyList<NewMessage> messages, CancellationToken ct);

    /// <summary>Stored, not recalled messages with a larger id than the newest indexed one: what a crash left unindexed.</summary>
    Task<IReadOnlyList<NewMessage>> UnindexedAsync(int limit, CancellationToken ct);

    /// <summary>Stored, not recalled, unindexed messages with an id in [<paramref name="fromId"/>, <paramref name="toId"/>], oldest first: what an overload left out of search.</summary>
    Task<IReadOnlyList<NewMessage>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct);

    /// <summary>
    /// Marks the acknowledged messages delivered, each only if it is to the user who acked it and still `sent`, in
    /// one transaction for all the acks; returns the messages that changed.
    /// </summary>
    Task<IReadOnlyList<StatusChange>> MarkDeliveredAsync(IReadOnlyList<DeliveryAck> acks, CancellationToken ct);

    /// <summary>Marks <paramref name="peerId"/>'s messages to <paramref name="readerId"/> up to an id read; returns how many changed.</summary>
    Task<int> MarkReadAsync(uint readerId, uint peerId, long upToMessageId, CancellationToken ct);

    /// <summary>The message if <paramref name="userId"/> sent or received it.</summary>
    Task<MessageRecord?> FindAsync(uint userId, long messageId, CancellationToken ct);

    /// <summary>Recalls a message of <paramref name="senderId"/>: content erased, flag set; false if it was already recalled.</summary>
    Task<bool> RecallAsync(uint senderId, long messageId, long at, CancellationToken ct);

    /// <summary>
    /// Newest first, ids below <paramref name="visibleBelow"/> only; <paramref name="beforeMessageId"/> (when not null)
    /// wins over <paramref name="offset"/>.
    /// </summary>
    Task<IReadOnlyList<MessageRecord>> HistoryAsync(uint userId, uint peerId, int limit, int offset, long? beforeMessageId, long visibleBelow, CancellationToken ct);

    /// <summary>Every message to or from the user with an id above <paramref name="afterMessageId"/> and below <paramref name="beforeMessageId"/>, oldest first.</summary>
    Task<IReadOnlyList<MessageRecord>> SyncAsync(uint userId, long afterMessageId, long beforeMessageId, int limit, CancellationToken ct);

    /// <summary>Messages to the user still only `sent` (not recalled), oldest first: the offline queue.</summary>
    Task<IReadOnlyList<MessageRecord>> UndeliveredAsync(uint userId, long afterMessageId, long beforeMessageId, int limit, CancellationToken ct);

    /// <summary>The user's conversations by newest message, newest first.</summary>
    Task<IReadOnlyList<ConversationSummary>> ConversationsAsync(uint userId, int limit, CancellationToken ct);

    /// <summary>
    /// Messages to or from the user (with <paramref name="peerId"/> only, when given) whose terms match the boolean
    /// query of <see cref="SearchText.Query"/>, newest first; recalled and deleted-for-me ones left out.
    /// </summary>
    Task<IReadOnlyList<MessageRecord>> SearchAsync(uint userId, uint? peerId, string query, int limit, CancellationToken ct);

    /// <summary>Hides a message of the user's conversations from the user alone.</summary>
    Task<DeleteOutcome> DeleteForUserAsync(uint userId, long messageId, long at, CancellationToken ct);

    /// <summary>Per peer, their messages to the user not read, not recalled, not deleted for the user (peers with none left out).</summary>
    Task<IReadOnlyList<UnreadCount>> UnreadCountsAsync(uint userId, CancellationToken ct);
}
