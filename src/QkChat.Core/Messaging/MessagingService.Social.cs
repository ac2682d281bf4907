using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Messaging;

/// <summary>search_messages (with group entries, through <see cref="GroupChats"/>), delete_message and get_unread_counts
/// (protocol.md §7, §8, §9; docs/messaging.md).</summary>
public sealed partial class MessagingService
{
    public const int KeywordMaxChars = 100, SearchDefaultLimit = 20, SearchMaxLimit = 100;

    /// <summary>get_unread_counts lists at most this many peers (about 40 bytes each); `total` counts them all.</summary>
    public const int UnreadPeersMax = 1000;

    /// <summary>
    /// get_unread_counts lists at most this many groups (about 45 bytes each), so that with 1,000 peers the answer stays
    /// under the 56 KiB page budget (MessageJson.MaxPageBytes); `total` counts them all.
    /// </summary>
    public const int UnreadGroupsMax = 300;

    private static string? KeywordRule(MessageRequest r)
    {
        if (r.Keyword is null) return "keyword: required";
        int chars = 0;
        foreach (var _ in r.Keyword.EnumerateRunes())
            if (++chars > KeywordMaxChars) break;
        return chars is >= 1 and <= KeywordMaxChars && r.Keyword.Trim().Length > 0 ? null : $"keyword: 1-{KeywordMaxChars} characters";
    }

    /// <summary>Only one filter at a time: a conversation or a group (docs/protocol.md, search_messages).</summary>
    private static string? OneFilterRule(MessageRequest r) =>
        r.ChatUserId is not null && r.GroupId is not null ? "chat_user_id, group_id: give one of them or neither" : null;

    private void SearchMessages(RequestContext ctx)
    {
        var request = Parse(ctx, KeywordRule,
            r => r.ChatUserId is null ? null : MessageFieldRules.UserId(r.ChatUserId, "chat_user_id"),
            r => MessageFieldRules.MessageIdRule(r.GroupId, "group_id", required: false),
            OneFilterRule,
            r => MessageFieldRules.LimitRule(r.Limit, SearchMaxLimit));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        uint? peer = request.ChatUserId is { } p ? (uint)p : null;
        long? group = request.GroupId;
        int limit = request.Limit ?? SearchDefaultLimit;
        string keyword = request.Keyword!;
        string? query = SearchText.Query(keyword, me);
        if (query is null && group is null)
        {
            // Only punctuation or spaces: no message or entry has such a word, so nothing is asked of the database. (With
            // group_id the membership is still checked: a non-member gets NOT_FOUND whatever the keyword.)
            ctx.Respond(ErrorCodes.Ok, "ok", limit, static (w, l) => SearchPage.Write(w, [], [], l));
            return;
        }
        OffReactor.Run(ctx, _logger, async pending =>
        {
            // Direct messages unless a group is named; group entries unless a conversation is named. Both at once.
            var direct = group is null && query is not null ? SearchDirectAsync(me, peer, query, limit + 1) : Task.FromResult(NoMessages);
            var groups = peer is not null ? Task.FromResult<IReadOnlyList<GroupSearchHit>?>([])
                : GroupChats is { } chats ? chats.SearchGroupsAsync(me, group, keyword, limit + 1, CancellationToken.None)
                : Task.FromResult<IReadOnlyList<GroupSearchHit>?>(group is null ? [] : null);
            await Task.WhenAll(direct, groups);
            if (groups.Result is not { } hits)
            {
                pending.Complete(ErrorCodes.NotFound, "no such group");
                return;
            }
            pending.Complete(ErrorCodes.Ok, "ok", (direct.Result, hits, limit), static (w, s) => SearchPage.Write(w, s.Item1, s.hits, s.limit));
        });
    }

    private static readonly IReadOnlyList<MessageRecord> NoMessages = [];

    private async Task<IReadOnlyList<MessageRecord>> SearchDirectAsync(uint me, uint? peer, string query, int limit)
    {
        // Read your writes: the terms of every message stored before this request are written first (unless an
        // overload has put the indexer far behind: then this answers from what is indexed, docs/messaging.md).
        await Indexer.WhenSearchableAsync();
        return await _store.SearchAsync(me, peer, query, limit, CancellationToken.None);
    }

    private void DeleteMessage(RequestContext ctx)
    {
        var request = Parse(ctx, r => MessageFieldRules.MessageIdRule(r.MessageId, "message_id"));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long id = request.MessageId!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            switch (await _store.DeleteForUserAsync(me, id, Now(), CancellationToken.None))
            {
                case DeleteOutcome.Deleted:
                    pending.Complete(ErrorCodes.Ok, "deleted for you");
                    return;
                case DeleteOutcome.AlreadyDeleted:
                    // A retry after a lost answer: the outcome is the same, so it is not an error.
                    pending.Complete(ErrorCodes.Ok, "already deleted for you");
                    return;
                default:
                    // protocol.md §8: outside my conversations a message does not exist.
                    pending.Complete(ErrorCodes.NotFound, "no such message");
                    return;
            }
        });
    }

    private void GetUnreadCounts(RequestContext ctx)
    {
        uint me = ctx.Session.UserId;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var counts = (await _store.UnreadCountsAsync(me, CancellationToken.None))
                .OrderByDescending(c => c.Unread).ThenBy(c => c.PeerId).ToList();
            // Groups with something unread, most first (protocol.md §9); they count in the total too.
            var groups = GroupChats is { } chats
                ? (await chats.GroupChatsAsync(me, CancellationToken.None)).Where(g => g.UnreadCount > 0)
                    .OrderByDescending(g => g.UnreadCount).ThenBy(g => g.GroupId).ToList()
                : [];
            long total = counts.Sum(c => (long)c.Unread) + groups.Sum(g => (long)g.UnreadCount);
            pending.Complete(ErrorCodes.Ok, "ok", (counts, total, groups), static (w, s) =>
            {
                w.WriteStartArray("counts"u8);
                foreach (var c in s.counts.Take(UnreadPeersMax))
                {
                    w.WriteStartObject();
                    w.WriteNumber("peer_id"u8, c.PeerId);
                    w.WriteNumber("unread"u8, c.Unread);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("groups"u8);
                foreach (var g in s.groups.Take(UnreadGroupsMax))
                {
                    w.WriteStartObject();
                    w.WriteNumber("group_id"u8, g.GroupId);
                    w.WriteNumber("unread"u8, g.UnreadCount);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("total"u8, s.total);
                w.WriteBoolean("has_more"u8, s.counts.Count > UnreadPeersMax || s.groups.Count > UnreadGroupsMax);
            });
        });
    }
}
