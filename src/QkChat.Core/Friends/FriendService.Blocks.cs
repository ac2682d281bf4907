using System.Collections.Frozen;
using System.Text.Json;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Friends;

/// <summary>
/// block_user, unblock_user, get_blocked_users (protocol.md §7). A block works both ways (docs/friends.md): neither
/// of the two can send the other friend requests or messages, and each sees the other offline. The database holds
/// the block before <see cref="BlockSetCache"/> is invalidated and before the answer, so the next send of either
/// user already sees it.
/// </summary>
public sealed partial class FriendService
{
    /// <summary>get_blocked_users answers at most this many (about 60 bytes each: well within a 64 KiB frame).</summary>
    public const int BlockedListMax = 500;

    private void RegisterSocial(ActionRouter router)
    {
        router.Register(Actions.BlockUser, allowedBeforeLogin: false, BlockUser);
        router.Register(Actions.UnblockUser, allowedBeforeLogin: false, UnblockUser);
        router.Register(Actions.GetBlockedUsers, allowedBeforeLogin: false, GetBlockedUsers);
        router.Register(Actions.IgnoreFriendRequest, allowedBeforeLogin: false, IgnoreFriendRequest);
        router.Register(Actions.SetFriendRemark, allowedBeforeLogin: false, SetFriendRemark);
        router.Register(Actions.CreateFriendGroup, allowedBeforeLogin: false, CreateFriendCategory);
        router.Register(Actions.RenameFriendGroup, allowedBeforeLogin: false, RenameFriendCategory);
        router.Register(Actions.DeleteFriendGroup, allowedBeforeLogin: false, DeleteFriendCategory);
        router.Register(Actions.MoveFriendToGroup, allowedBeforeLogin: false, MoveFriendToCategory);
        router.Register(Actions.GetFriendGroups, allowedBeforeLogin: false, GetFriendCategories);
    }

    /// <summary>What <paramref name="userId"/>'s presence looks like to a viewer whose block set is <paramref name="blocked"/>.</summary>
    private string StatusSeenBy(FrozenSet<uint> blocked, uint userId) => blocked.Contains(userId) ? "offline" : _presence.VisibleStatus(userId);

    private void BlockUser(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.UserId(request.UserId, "user_id", out uint other))) return;
        uint me = ctx.Session.UserId;
        if (other == me)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "user_id: you cannot block yourself");
            return;
        }
        var audit = AuditOf(ctx, AuditEvent.Blocked);
        RunAsync(ctx, async pending =>
        {
            switch (await _store.BlockAsync(me, other, Now(), CancellationToken.None))
            {
                case BlockOutcome.NotFound:
                    pending.Complete(ErrorCodes.NotFound, "user_id: no such user");
                    return;
                case BlockOutcome.AlreadyBlocked:
                    pending.Complete(ErrorCodes.AlreadyExists, "already blocked");
                    return;
            }
            await _blocks.Invalidate(me, other);
            _audit.Record(audit);
            LogBlocked(_logger, me, other);
            pending.Complete(ErrorCodes.Ok, "blocked");
            // Friends now see each other offline: a client showing the other present learns it at once (a push only
            // where what the viewer sees changes, as protocol.md §8 has it for presence).
            if (!await _store.AreFriendsAsync(me, other, CancellationToken.None)) return;
            var presence = await _presence.OverAllNodesAsync([me, other], CancellationToken.None);
            if (presence.VisibleStatus(other) != "offline") TellPresence(me, other, "offline");
            if (presence.VisibleStatus(me) != "offline") TellPresence(other, me, "offline");
        });
    }

    private void UnblockUser(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.UserId(request.UserId, "user_id", out uint other))) return;
        uint me = ctx.Session.UserId;
        var audit = AuditOf(ctx, AuditEvent.Unblocked);
        RunAsync(ctx, async pending =>
        {
            if (other == me || !await _store.UnblockAsync(me, other, CancellationToken.None))
            {
                pending.Complete(ErrorCodes.NotFound, "user_id: you have not blocked this user");
                return;
            }
            await _blocks.Invalidate(me, other);
            _audit.Record(audit);
            LogUnblocked(_logger, me, other);
            pending.Complete(ErrorCodes.Ok, "unblocked");
            // Friends who are no longer in a block (the other may have blocked me too) see each other's real status again.
            if (await _blocks.IsBlockedAsync(me, other, CancellationToken.None)) return;
            if (!await _store.AreFriendsAsync(me, other, CancellationToken.None)) return;
            var presence = await _presence.OverAllNodesAsync([me, other], CancellationToken.None);
            if (presence.VisibleStatus(other) is not "offline" and var theirs) TellPresence(me, other, theirs);
            if (presence.VisibleStatus(me) is not "offline" and var mine) TellPresence(other, me, mine);
        });
    }

    private void GetBlockedUsers(RequestContext ctx)
    {
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var users = await _store.ListBlockedAsync(me, BlockedListMax, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, "ok", users, static (w, list) =>
            {
                w.WriteStartArray("users"u8);
                foreach (var u in list)
                {
                    w.WriteStartObject();
                    w.WriteNumber("user_id"u8, u.UserId);
                    w.WriteString("username"u8, u.Username);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
        });
    }

    /// <summary>Captured on the reactor: the session and connection are not to be read from another thread.</summary>
    private static AuditRecord AuditOf(RequestContext ctx, AuditEvent e) =>
        new(e, ctx.Session.UserId, ctx.Session.ClientId, null, ctx.Session.RemoteAddress.ToString(), Ok: true);

    /// <summary>A `presence` push to <paramref name="viewer"/>'s devices about <paramref name="subject"/> (droppable, as all presence).</summary>
    private void TellPresence(uint viewer, uint subject, string status)
    {
        // Like every presence push, last_seen is a time: now (the block's moment for "offline", which reveals nothing).
        long lastSeen = (status == "offline" ? null : _presence.LastSeen(subject)) ?? Now();
        _delivery.ToUser(viewer, Frames.CreatePush(PushNames.Presence, (subject, status, lastSeen), static (w, s) =>
        {
            w.WriteNumber("user_id"u8, s.subject);
            w.WriteString("status"u8, s.status);
            w.WriteNumber("last_seen"u8, s.lastSeen);
        }), droppable: true);
    }
}
