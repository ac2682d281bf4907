using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Friends;

/// <summary>
/// ignore_friend_request, set_friend_remark and the friend-category actions (protocol.md §7 calls them friend groups:
/// create_friend_group ...; "group" in this code is left to chat groups, §9). All private to the caller: nobody else
/// is told. Another user's category or request answers NOT_FOUND, like an unknown id (§8).
/// </summary>
public sealed partial class FriendService
{
    /// <summary>Categories per user besides the default: keeps get_friend_groups well within one frame (about 130 bytes each).</summary>
    public const int MaxCategories = 100;

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

    private void CreateFriendCategory(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.CategoryName(request.CategoryName, "group_name", out string name))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var result = await _store.CreateCategoryAsync(me, name, MaxCategories, Now(), CancellationToken.None);
            switch (result.Outcome)
            {
                case CategoryOutcome.Done:
                    pending.Complete(ErrorCodes.Ok, "group created", result.CategoryId, static (w, id) => w.WriteNumber("group_id"u8, id));
                    return;
                case CategoryOutcome.NameTaken:
                    pending.Complete(ErrorCodes.AlreadyExists, "group_name: you have a group of that name");
                    return;
                default:
                    pending.Complete(ErrorCodes.Forbidden, $"at most {MaxCategories} groups");
                    return;
            }
        });
    }

    private void RenameFriendCategory(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.CategoryId(request.CategoryId, allowDefault: true, out uint categoryId))
            || !Check(ctx, FriendRules.CategoryName(request.NewName, "new_name", out string name))) return;
        if (categoryId == 0)
        {
            ctx.Respond(ErrorCodes.Forbidden, "the default group cannot be renamed");
            return;
        }
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            switch (await _store.RenameCategoryAsync(me, categoryId, name, CancellationToken.None))
            {
                case CategoryOutcome.Done:
                    pending.Complete(ErrorCodes.Ok, "group renamed");
                    return;
                case CategoryOutcome.NameTaken:
                    pending.Complete(ErrorCodes.AlreadyExists, "new_name: you have a group of that name");
                    return;
                default:
                    pending.Complete(ErrorCodes.NotFound, "group_id: no such group");
                    return;
            }
        });
    }

    private void DeleteFriendCategory(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.CategoryId(request.CategoryId, allowDefault: true, out uint categoryId))) return;
        if (categoryId == 0)
        {
            ctx.Respond(ErrorCodes.Forbidden, "the default group cannot be deleted");
            return;
        }
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            if (await _store.DeleteCategoryAsync(me, categoryId, CancellationToken.None))
                pending.Complete(ErrorCodes.Ok, "group deleted; its friends are in the default group");
            else
                pending.Complete(ErrorCodes.NotFound, "group_id: no such group");
        });
    }

    private void MoveFriendToCategory(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.UserId(request.FriendId, "friend_id", out uint friendId))
            || !Check(ctx, FriendRules.CategoryId(request.CategoryId, allowDefault: true, out uint categoryId))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            switch (await _store.MoveFriendAsync(me, friendId, categoryId, CancellationToken.None))
            {
                case MoveOutcome.Moved:
                    pending.Complete(ErrorCodes.Ok, "friend moved");
                    return;
                case MoveOutcome.NoSuchCategory:
                    pending.Complete(ErrorCodes.NotFound, "group_id: no such group");
                    return;
                default:
                    pending.Complete(ErrorCodes.NotFound, "friend_id: not your friend");
                    return;
            }
        });
    }

    private void GetFriendCategories(RequestContext ctx)
    {
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var categories = await _store.ListCategoriesAsync(me, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, "ok", categories, static (w, list) =>
            {
                w.WriteStartArray("groups"u8);
                foreach (var g in list)
                {
                    w.WriteStartObject();
                    w.WriteNumber("group_id"u8, g.CategoryId);
                    w.WriteString("group_name"u8, g.CategoryName);
                    w.WriteNumber("count"u8, g.Count);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
        });
    }
}
