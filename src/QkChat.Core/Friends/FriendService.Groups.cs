using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Friends;

/// <summary>
/// ignore_friend_request, set_friend_remark and the friend-group actions (protocol.md §7). All private to the
/// caller: nobody else is told. Another user's group or request answers NOT_FOUND, like an unknown id (§8).
/// </summary>
public sealed partial class FriendService
{
    /// <summary>Groups per user besides the default: keeps get_friend_groups well within one frame (about 130 bytes each).</summary>
    public const int MaxGroups = 100;

    private void IgnoreFriendRequest(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.RequestId(request.FriendRequestId, out ulong id))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var result = await _store.IgnoreRequestAsync(me, id, CancellationToken.None);
            switch (result.Outcome)
            {
                case IgnoreOutcome.Ignored:
                    pending.Complete(ErrorCodes.Ok, "friend request ignored");
                    return;
                case IgnoreOutcome.AlreadyAnswered:
                    // As respond_friend_request: a client learns how it was answered.
                    pending.Complete(ErrorCodes.AlreadyExists, result.WasAccepted ? "already accepted" : "already rejected",
                        result.WasAccepted, static (w, accepted) => w.WriteBoolean("accepted"u8, accepted));
                    return;
                default:
                    pending.Complete(ErrorCodes.NotFound, "friend_request_id: no such friend request to you");
                    return;
            }
        });
    }

    private void SetFriendRemark(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.UserId(request.FriendId, "friend_id", out uint friendId))
            || !Check(ctx, FriendRules.Remark(request.Remark, out string remark))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            if (!await _store.SetRemarkAsync(me, friendId, remark, CancellationToken.None))
                pending.Complete(ErrorCodes.NotFound, "friend_id: not your friend");
            else
                pending.Complete(ErrorCodes.Ok, remark.Length == 0 ? "remark cleared" : "remark set");
        });
    }

    private void CreateFriendGroup(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.GroupName(request.GroupName, "group_name", out string name))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var result = await _store.CreateGroupAsync(me, name, MaxGroups, Now(), CancellationToken.None);
            switch (result.Outcome)
            {
                case GroupOutcome.Done:
                    pending.Complete(ErrorCodes.Ok, "group created", result.GroupId, static (w, id) => w.WriteNumber("group_id"u8, id));
                    return;
                case GroupOutcome.NameTaken:
                    pending.Complete(ErrorCodes.AlreadyExists, "group_name: you have a group of that name");
                    return;
                default:
                    pending.Complete(ErrorCodes.Forbidden, $"at most {MaxGroups} groups");
                    return;
            }
        });
    }

    private void RenameFriendGroup(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.GroupId(request.GroupId, allowDefault: true, out uint groupId))
            || !Check(ctx, FriendRules.GroupName(request.NewName, "new_name", out string name))) return;
        if (groupId == 0)
        {
            ctx.Respond(ErrorCodes.Forbidden, "the default group cannot be renamed");
            return;
        }
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            switch (await _store.RenameGroupAsync(me, groupId, name, CancellationToken.None))
            {
                case GroupOutcome.Done:
                    pending.Complete(ErrorCodes.Ok, "group renamed");
                    return;
                case GroupOutcome.NameTaken:
                    pending.Complete(ErrorCodes.AlreadyExists, "new_name: you have a group of that name");
                    return;
                default:
                    pending.Complete(ErrorCodes.NotFound, "group_id: no such group");
                    return;
            }
        });
    }

    private void DeleteFriendGroup(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.GroupId(request.GroupId, allowDefault: true, out uint groupId))) return;
        if (groupId == 0)
        {
            ctx.Respond(ErrorCodes.Forbidden, "the default group cannot be deleted");
            return;
        }
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            if (await _store.DeleteGroupAsync(me, groupId, CancellationToken.None))
                pending.Complete(ErrorCodes.Ok, "group deleted; its friends are in the default group");
            else
                pending.Complete(ErrorCodes.NotFound, "group_id: no such group");
        });
    }

    private void MoveFriendToGroup(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.UserId(request.FriendId, "friend_id", out uint friendId))
            || !Check(ctx, FriendRules.GroupId(request.GroupId, allowDefault: true, out uint groupId))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            switch (await _store.MoveFriendAsync(me, friendId, groupId, CancellationToken.None))
            {
                case MoveOutcome.Moved:
                    pending.Complete(ErrorCodes.Ok, "friend moved");
                    return;
                case MoveOutcome.NoSuchGroup:
                    pending.Complete(ErrorCodes.NotFound, "group_id: no such group");
                    return;
                default:
                    pending.Complete(ErrorCodes.NotFound, "friend_id: not your friend");
                    return;
            }
        });
    }

    private void GetFriendGroups(RequestContext ctx)
    {
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var groups = await _store.ListGroupsAsync(me, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, "ok", groups, static (w, list) =>
            {
                w.WriteStartArray("groups"u8);
                foreach (var g in list)
                {
                    w.WriteStartObject();
                    w.WriteNumber("group_id"u8, g.GroupId);
                    w.WriteString("group_name"u8, g.GroupName);
                    w.WriteNumber("count"u8, g.Count);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
        });
    }
}
