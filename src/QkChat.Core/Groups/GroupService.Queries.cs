using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Groups;

/// <summary>Reads (groups, info, members, history, sync), mark_group_read and recall_group_message.</summary>
public sealed partial class GroupService
{
    private void GetGroups(RequestContext ctx)
    {
        uint me = ctx.Session.UserId;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var groups = await _store.MyGroupsAsync(me, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, "ok", groups, static (w, list) =>
            {
                int written = 0;
                w.WriteStartArray("groups"u8);
                foreach (var g in list)
                {
                    // The frame budget: long last messages can cut the list short (has_more says so).
                    if (written > 0 && !GroupJson.Fits(w, g.LastEntry, extra: 300)) break;
                    w.WriteStartObject();
                    w.WriteNumber("group_id"u8, g.GroupId);
                    w.WriteString("name"u8, g.Name);
                    w.WriteString("role"u8, GroupJson.RoleName(g.Role));
                    w.WriteNumber("member_count"u8, g.MemberCount);
                    w.WriteNumber("max_seq"u8, g.MaxSeq);
                    w.WriteNumber("read_seq"u8, g.ReadSeq);
                    w.WriteNumber("unread_count"u8, g.UnreadCount);
                    w.WritePropertyName("last_message"u8);
                    if (g.LastEntry is { } last) GroupJson.Write(w, last);
                    else w.WriteNullValue();
                    w.WriteEndObject();
                    written++;
                }
                w.WriteEndArray();
                w.WriteBoolean("has_more"u8, written < list.Count);
            });
        });
    }

    private void GetGroupInfo(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule);
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            if (await _store.InfoAsync(groupId, me, CancellationToken.None) is not { } info)
            {
                pending.Complete(ErrorCodes.NotFound, "no such group");
                return;
            }
            pending.Complete(ErrorCodes.Ok, "ok", info, static (w, i) =>
            {
                w.WriteNumber("group_id"u8, i.GroupId);
                w.WriteString("name"u8, i.Name);
                w.WriteNumber("owner_id"u8, i.OwnerId);
                w.WriteNumber("created_at"u8, i.CreatedAt);
                w.WriteNumber("member_count"u8, i.MemberCount);
                w.WriteNumber("max_seq"u8, i.MaxSeq);
            });
        });
    }

    private void GetGroupMembers(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, r => MessageFieldRules.LimitRule(r.Limit, 500),
            r => r.AfterUserId is null or (>= 0 and <= uint.MaxValue) ? null : "after_user_id: a user id");
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        int limit = request.Limit ?? 100;
        uint? after = request.AfterUserId is { } a ? (uint)a : null;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            if (await _store.MembersAsync(groupId, me, after, limit, CancellationToken.None) is not { } page)
            {
                pending.Complete(ErrorCodes.NotFound, "no such group");
                return;
            }
            // Blocking does not apply inside groups (protocol.md §9): every member's visible status is shown.
            var presence = await _presence.OverAllNodesAsync(page.Members.Select(m => m.UserId).ToArray(), CancellationToken.None);
            var statuses = page.Members.Select(m => presence.VisibleStatus(m.UserId)).ToArray();
            pending.Complete(ErrorCodes.Ok, "ok", (page, statuses), static (w, s) =>
            {
                w.WriteStartArray("members"u8);
                for (int i = 0; i < s.page.Members.Count; i++)
                {
                    var m = s.page.Members[i];
                    w.WriteStartObject();
                    w.WriteNumber("user_id"u8, m.UserId);
                    w.WriteString("username"u8, m.Username);
                    w.WriteString("role"u8, GroupJson.RoleName(m.Role));
                    w.WriteNumber("joined_at"u8, m.JoinedAt);
                    w.WriteString("status"u8, s.statuses[i]);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("has_more"u8, s.page.HasMore);
            });
        });
    }

    private void GetGroupHistory(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, r => MessageFieldRules.LimitRule(r.Limit, 100),
            r => SeqRule(r.BeforeSeq, "before_seq", required: false, min: 1));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        int limit = request.Limit ?? 50;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var page = await _store.HistoryAsync(groupId, me, request.BeforeSeq, limit + 1, CancellationToken.None);
            CompletePage(pending, page, limit);
        });
    }

    private void SyncGroupMessages(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, r => SeqRule(r.AfterSeq, "after_seq", required: false, min: 0),
            r => MessageFieldRules.LimitRule(r.Limit, 500));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        int limit = request.Limit ?? 100;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var page = await _store.SyncAsync(groupId, me, request.AfterSeq ?? 0, limit + 1, CancellationToken.None);
            CompletePage(pending, page, limit);
        });
    }

    /// <summary>Up to <paramref name="limit"/> entries (one more in the page means has_more); NOT_FOUND for a non-member.</summary>
    private static void CompletePage(PendingResponse pending, IReadOnlyList<GroupEntry>? page, int limit)
    {
        if (page is not { } entries) pending.Complete(ErrorCodes.NotFound, "no such group");
        else pending.Complete(ErrorCodes.Ok, "ok", (entries, limit), static (w, s) => GroupJson.WritePage(w, s.entries, s.limit));
    }

    private void MarkGroupRead(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, r => SeqRule(r.UpToSeq, "up_to_seq", required: true, min: 0));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value, upTo = request.UpToSeq!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            if (await _store.MarkReadAsync(groupId, me, upTo, CancellationToken.None) is not { } readSeq)
            {
                pending.Complete(ErrorCodes.NotFound, "no such group");
                return;
            }
            // My other devices learn the read_seq now stored (the same value again when nothing moved: it never goes back).
            _delivery.ToUser(me, Frames.CreatePush(PushNames.GroupRead, (groupId, readSeq), static (w, s) =>
            {
                w.WriteNumber("group_id"u8, s.groupId);
                w.WriteNumber("read_seq"u8, s.readSeq);
            }), except: pending.Session);
            pending.Complete(ErrorCodes.Ok, "ok", readSeq, static (w, r) => w.WriteNumber("read_seq"u8, r));
        });
    }

    private void RecallGroupMessage(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, r => SeqRule(r.Seq, "seq", required: true, min: 1));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value, seq = request.Seq!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            var recall = await _store.RecallAsync(groupId, seq, me, Now(), CancellationToken.None);
            switch (recall.Result)
            {
                case GroupRecallResult.Recalled:
                    // Every device of every member, the recalling one too (as message_recalled for one-to-one).
                    // Behind the entry it recalls on every node (a device must not learn of the recall before the entry).
                    _delivery.ToGroup(new GroupSeq(groupId, seq, Follows: true), [.. recall.Members], Frames.CreatePush(PushNames.GroupMessageRecalled, (groupId, seq, me), static (w, s) =>
                    {
                        w.WriteNumber("group_id"u8, s.groupId);
                        w.WriteNumber("seq"u8, s.seq);
                        w.WriteNumber("by"u8, s.me);
                    }));
                    pending.Complete(ErrorCodes.Ok, "recalled");
                    break;
                case GroupRecallResult.AlreadyRecalled:
                    pending.Complete(ErrorCodes.Ok, "already recalled");
                    break;
                case GroupRecallResult.Forbidden:
                    pending.Complete(ErrorCodes.Forbidden, "only its sender, the owner or an admin recalls an entry");
                    break;
                case GroupRecallResult.WindowExpired:
                    pending.Complete(ErrorCodes.RecallWindowExpired, "a sender recalls within 120 s of sending");
                    break;
                default:
                    pending.Complete(ErrorCodes.NotFound, "no such group or entry");
                    break;
            }
        });
    }
}
