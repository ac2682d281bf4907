using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Messaging;

public sealed partial class MessagingService
{
    private void GetChatHistory(RequestContext ctx)
    {
        var request = Parse(ctx, r => MessageFieldRules.UserId(r.ChatUserId, "chat_user_id"), r => MessageFieldRules.LimitRule(r.Limit, 100),
            r => r.Offset is null or >= 0 ? null : "offset: 0 or more",
            r => MessageFieldRules.MessageIdRule(r.BeforeMessageId, "before_message_id", required: false));
        if (request is null) return;
        uint me = ctx.Session.UserId, peer = (uint)request.ChatUserId!.Value;
        int limit = request.Limit ?? 50;
        // Below the writer's watermark, as sync_messages: a page never shows a message while an earlier one is still
        // being stored (docs/messaging.md "Order and catch-up"), on this node or another.
        long own = Writer.VisibleBelow();
        OffReactor.Run(ctx, _logger, async pending =>
        {
            long below = await ReadBoundAsync(own, ReadPatience);
            // The conversation (me, peer) is mine by construction; a stranger's id just has no messages with me.
            var page = await _store.HistoryAsync(me, peer, limit + 1, request.Offset ?? 0, request.BeforeMessageId, below, CancellationToken.None);
            CompletePage(pending, page, limit);
        });
    }

    private void SyncMessages(RequestContext ctx)
    {
        var request = Parse(ctx, r => r.AfterMessageId is null or (>= 0 and < 1L << 53) ? null : "after_message_id: 0 or a message id",
            r => MessageFieldRules.LimitRule(r.Limit, 500));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        int limit = request.Limit ?? 100;
        // Taken before the read: no message of this node at or above it can be in the page, so a message that commits
        // ahead of an earlier one (several batches in flight) waits for that one (MessageWriter, "Order").
        long own = Writer.VisibleBelow();
        OffReactor.Run(ctx, _logger, async pending =>
        {
            long bound = await ReadBoundAsync(own, ReadPatience);
            var page = await _store.SyncAsync(me, request.AfterMessageId ?? 0, own, limit + 1, CancellationToken.None);
            // Read up to this node's own bound, shown up to the cluster's: what another node's batch in flight holds back
            // is cut and `has_more` says so, so a client never takes a short page for the end (docs/cluster.md "Read
            // marks"). Ascending ids: the cut is a tail.
            int shown = 0;
            while (shown < page.Count && page[shown].MessageId < bound) shown++;
            if (shown == page.Count) CompletePage(pending, page, limit);
            else
            {
                var kept = page.Take(shown).ToList();
                pending.Complete(ErrorCodes.Ok, "ok", (kept, limit), static (w, s) => MessageJson.WritePage(w, s.kept, s.limit, moreBeyond: true));
            }
        });
    }

    /// <summary>
    /// How long sync_messages, get_chat_history and each step of the offline queue at login wait for the other nodes' read
    /// marks to pass the read's own bound (<see cref="IClusterReadMark.OthersBelowAsync"/>): typically one to two publish
    /// periods (20 ms each) plus a Redis round trip; 300 ms is the bound on a loaded box, past
    /// <see cref="ClusterReadMarks.SilentAfter"/> (200 ms), after which no silent node is waited for anyway.
    /// </summary>
    public static readonly TimeSpan ReadPatience = TimeSpan.FromMilliseconds(300);

    /// <summary>The other nodes' read marks (set at composition by a node with a lease); null: this node's own alone.</summary>
    public IClusterReadMark? ClusterMarks { get; set; }

    /// <summary>
    /// The exclusive bound of a read that pages by id: <paramref name="own"/> (this node's watermark, taken before the
    /// read), lowered to the first id another live node still has in flight (docs/cluster.md "Read marks").
    /// </summary>
    private async ValueTask<long> ReadBoundAsync(long own, TimeSpan patience) =>
        ClusterMarks is { } marks ? Math.Min(own, await marks.OthersBelowAsync(own, patience, CancellationToken.None)) : own;

    /// <summary>Answers with up to <paramref name="limit"/> messages; one more in <paramref name="page"/> means has_more.</summary>
    private static void CompletePage(PendingResponse pending, IReadOnlyList<MessageRecord> page, int limit) =>
        pending.Complete(ErrorCodes.Ok, "ok", (page, limit), static (w, s) => MessageJson.WritePage(w, s.page, s.limit));

    /// <summary>The groups of get_conversations and get_unread_counts (set at composition; none when group chat is not wired).</summary>
    public IGroupChats? GroupChats { get; set; }

    private void GetConversations(RequestContext ctx)
    {
        var request = Parse(ctx, r => MessageFieldRules.LimitRule(r.Limit, 100));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        int limit = request.Limit ?? 50;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var conversations = await _store.ConversationsAsync(me, limit, CancellationToken.None);
            // Statuses are read here (not on the reactor that writes); a peer in a block with me looks offline.
            var blocked = await _blocks.BlockedWithAsync(me, CancellationToken.None);
            var presence = await _presence.OverAllNodesAsync(conversations.Select(c => c.PeerId).ToArray(), CancellationToken.None);
            var statuses = conversations.Select(c => blocked.Contains(c.PeerId) ? "offline" : presence.VisibleStatus(c.PeerId)).ToArray();
            // Groups and direct chats in one list by their newest message id (one id space), newest first (protocol.md §9).
            var groups = GroupChats is { } chats
                ? (await chats.GroupChatsAsync(me, CancellationToken.None)).OrderByDescending(g => g.LastMessageId).ToList()
                : [];
            pending.Complete(ErrorCodes.Ok, "ok", (conversations, statuses, groups, limit), static (w, s) =>
            {
                w.WriteStartArray("conversations"u8);
                int d = 0, g = 0;
                for (int written = 0; written < s.limit && (d < s.conversations.Count || g < s.groups.Count); written++)
                {
                    bool group = g < s.groups.Count && (d == s.conversations.Count || s.groups[g].LastMessageId > s.conversations[d].LastMessage.MessageId);
                    if (group)
                    {
                        var chat = s.groups[g++];
                        // The frame budget: long last messages can cut the list short (a later page is the next call).
                        if (w.BytesCommitted + w.BytesPending + chat.LastMessageBytes + 400 > MessageJson.MaxPageBytes) break;
                        w.WriteStartObject();
                        w.WriteString("kind"u8, "group"u8);
                        w.WriteNumber("group_id"u8, chat.GroupId);
                        w.WriteString("name"u8, chat.Name);
                        w.WritePropertyName("last_message"u8);
                        chat.WriteLastMessage(w);
                        w.WriteNumber("unread_count"u8, chat.UnreadCount);
                        w.WriteEndObject();
                        continue;
                    }
                    var c = s.conversations[d];
                    if (!MessageJson.Fits(w, c.LastMessage)) break;
                    w.WriteStartObject();
                    w.WriteString("kind"u8, "direct"u8);
                    w.WriteNumber("peer_id"u8, c.PeerId);
                    w.WriteString("username"u8, c.PeerName);
                    w.WriteString("status"u8, s.statuses[d]);
                    w.WritePropertyName("last_message"u8);
                    MessageJson.Write(w, c.LastMessage);
                    w.WriteNumber("unread_count"u8, c.UnreadCount);
                    w.WriteEndObject();
                    d++;
                }
                w.WriteEndArray();
            });
        });
    }
}
