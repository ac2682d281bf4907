using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>Typed calls for the message actions (protocol.md §5, §7); see <see cref="ChatClient.RequestAsync{TBody}"/>.</summary>
public sealed partial class ChatClient
{
    /// <param name="clientMsgId">Optional, at most 64 characters: the same id from the same sender is stored once.</param>
    /// <param name="type">Null sends none: the server takes <c>text</c>.</param>
    public Task<Envelope> SendMessageAsync(long receiverId, string content, string? clientMsgId = null, string? type = null,
        CancellationToken ct = default) =>
        RequestAsync(Actions.SendMessage, new MessageRequest
        {
            ReceiverId = receiverId, Content = content, Type = type, ClientMsgId = clientMsgId,
        }, ct: ct);

    public Task<Envelope> MessageAckAsync(long[] messageIds, CancellationToken ct = default) =>
        RequestAsync(Actions.MessageAck, new MessageRequest { MessageIds = messageIds }, ct: ct);

    public Task<Envelope> MarkReadAsync(long chatUserId, long upToMessageId, CancellationToken ct = default) =>
        RequestAsync(Actions.MarkRead, new MessageRequest { ChatUserId = chatUserId, UpToMessageId = upToMessageId }, ct: ct);

    public Task<Envelope> RecallMessageAsync(long messageId, CancellationToken ct = default) =>
        RequestAsync(Actions.RecallMessage, new MessageRequest { MessageId = messageId }, ct: ct);

    public Task<Envelope> GetChatHistoryAsync(long chatUserId, int? limit = null, int? offset = null, long? beforeMessageId = null,
        CancellationToken ct = default) =>
        RequestAsync(Actions.GetChatHistory, new MessageRequest
        {
            ChatUserId = chatUserId, Limit = limit, Offset = offset, BeforeMessageId = beforeMessageId,
        }, ct: ct);

    public Task<Envelope> GetConversationsAsync(int? limit = null, CancellationToken ct = default) =>
        RequestAsync(Actions.GetConversations, new MessageRequest { Limit = limit }, ct: ct);

    public Task<Envelope> SyncMessagesAsync(long? afterMessageId = null, int? limit = null, CancellationToken ct = default) =>
        RequestAsync(Actions.SyncMessages, new MessageRequest { AfterMessageId = afterMessageId, Limit = limit }, ct: ct);

    /// <summary>
    /// search_messages: direct messages and group entries (each result has `kind`), newest first. <paramref name="chatUserId"/>
    /// narrows to one conversation, <paramref name="groupId"/> to one group (not both).
    /// </summary>
    public Task<Envelope> SearchMessagesAsync(string keyword, long? chatUserId = null, int? limit = null, long? groupId = null,
        CancellationToken ct = default) =>
        RequestAsync(Actions.SearchMessages, new MessageRequest { Keyword = keyword, ChatUserId = chatUserId, Limit = limit, GroupId = groupId }, ct: ct);

    public Task<Envelope> DeleteMessageAsync(long messageId, CancellationToken ct = default) =>
        RequestAsync(Actions.DeleteMessage, new MessageRequest { MessageId = messageId }, ct: ct);

    public Task<Envelope> GetUnreadCountsAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.GetUnreadCounts, writeFields: null, ct: ct);
}
