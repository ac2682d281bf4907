using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Groups;

/// <summary>
/// create_group and the membership actions. Each that changes members or roles runs its store call inside the member
/// cache's change bracket, then pushes `group_event` to the members after the change (and to a removed or departed
/// member), and answers last: a client that got the answer already holds the push on its other connections' order.
/// </summary>
public sealed partial class GroupService
{
    private void CreateGroup(RequestContext ctx)
    {
        var request = Parse(ctx, NameRule, r => UserIdsRule(r.MemberIds, "member_ids", 0, int.MaxValue));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        string name = request.Name!;
        uint[] others = (request.MemberIds ?? []).Select(id => (uint)id).Where(id => id != me).Distinct().Order().ToArray();
        OffReactor.Run(ctx, _logger, async pending =>
        {
            if (1 + others.Length > _options.MaxMembers)
            {
                pending.Complete(ErrorCodes.Forbidden, $"member_ids: a group holds at most {_options.MaxMembers} members, you included");
                return;
            }
            var friends = await _friends.FriendsOfAsync(me, CancellationToken.None);
            foreach (uint id in others)
            {
                if (friends.Contains(id)) continue;
                pending.Complete(ErrorCodes.NotFriends, $"member_ids: {id} is not your friend");
                return;
            }
            var created = await _store.CreateAsync(me, name, others, Stamp(), Stamp(), Now(), CancellationToken.None);
            uint[] members = [me, .. others];
            foreach (var entry in created.Entries)
                _delivery.ToGroup(new GroupSeq(entry.GroupId, entry.Seq), members, Frames.CreatePush(PushNames.GroupEvent, entry, GroupJson.WriteEvent));
            pending.Complete(ErrorCodes.Ok, "group created", created, static (w, c) =>
            {
                w.WriteNumber("group_id"u8, c.GroupId);
                w.WriteNumber("seq"u8, c.Seq);
            });
        });
    }

    private void AddGroupMembers(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, r => UserIdsRule(r.UserIds, "user_ids", 1, GroupOptions.MaxAddIds));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        uint[] ids = request.UserIds!.Select(id => (uint)id).Distinct().ToArray();
        OffReactor.Run(ctx, _logger, async pending =>
        {
            // The order of the errors a client sees: not a member, then not allowed, then not a friend. The store
            // checks member and role again under the group's lock.
            var members = await _members.MembersAsync(groupId, CancellationToken.None);
            if (members.RoleOf(me) is not { } role)
            {
                pending.Complete(ErrorCodes.NotFound, "no such group");
                return;
            }
            if (!GroupRules.CanAddMembers(role))
            {
                pending.Complete(ErrorCodes.Forbidden, "only the owner and admins add members");
                return;
            }
            var friends = await _friends.FriendsOfAsync(me, CancellationToken.None);
            foreach (uint id in ids)
            {
                if (id == me || members.Contains(id) || friends.Contains(id)) continue;
                pending.Complete(ErrorCodes.NotFriends, $"user_ids: {id} is not your friend");
                return;
            }
            MembersAdded added;
            _members.BeginChange(groupId);
            try
            {
                added = await _store.AddMembersAsync(groupId, me, ids, _options.MaxMembers, Stamp(), CancellationToken.None);
            }
            finally
            {
                await _members.EndChange(groupId);
            }
            if (added.Entry is { } entry) await PushEventAsync(entry);
            switch (added.Result)
            {
                case GroupChangeResult.Done or GroupChangeResult.Unchanged:
                    pending.Complete(ErrorCodes.Ok, added.Added.Count == 0 ? "everyone was a member already" : "added", added, static (w, a) =>
                    {
                        GroupJson.WriteUserIds(w, a.Added, "added"u8);
                        GroupJson.WriteUserIds(w, a.Already, "already"u8);
                    });
                    break;
                case GroupChangeResult.OverCap:
                    pending.Complete(ErrorCodes.Forbidden, $"a group holds at most {_options.MaxMembers} members; nobody was added");
                    break;
                default:
                    Fail(pending, added.Result, "only the owner and admins add members");
                    break;
            }
        });
    }

    private void RemoveGroupMember(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, UserIdRule);
        if (request is null) return;
        uint me = ctx.Session.UserId, target = (uint)request.UserId!.Value;
        if (target == me)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "user_id: to leave a group, use leave_group");
            return;
        }
        long groupId = request.GroupId!.Value;
        RunChange(ctx, groupId, changesMembers: true, "the owner removes anyone; an admin removes members only", "removed", alsoTell: target,
            stamp => _store.RemoveMemberAsync(groupId, me, target, stamp, CancellationToken.None));
    }

    private void LeaveGroup(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule);
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        RunChange(ctx, groupId, changesMembers: true, "the owner must transfer ownership first (transfer_group_owner)", "left", alsoTell: me,
            stamp => _store.LeaveAsync(groupId, me, stamp, CancellationToken.None));
    }

    private void SetGroupRole(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, UserIdRule,
            r => r.Role is "admin" or "member" ? null : "role: \"admin\" or \"member\"");
        if (request is null) return;
        uint me = ctx.Session.UserId, target = (uint)request.UserId!.Value;
        long groupId = request.GroupId!.Value;
        var role = request.Role == "admin" ? GroupRole.Admin : GroupRole.Member;
        RunChange(ctx, groupId, changesMembers: true, "only the owner sets roles, and not their own", "role set", alsoTell: null,
            stamp => _store.SetRoleAsync(groupId, me, target, role, stamp, CancellationToken.None));
    }

    private void TransferGroupOwner(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, UserIdRule);
        if (request is null) return;
        uint me = ctx.Session.UserId, target = (uint)request.UserId!.Value;
        long groupId = request.GroupId!.Value;
        RunChange(ctx, groupId, changesMembers: true, "only the owner transfers ownership", "ownership transferred", alsoTell: null,
            stamp => _store.TransferOwnerAsync(groupId, me, target, stamp, CancellationToken.None));
    }

    private void RenameGroup(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, NameRule);
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        string name = request.Name!;
        RunChange(ctx, groupId, changesMembers: false, "only the owner and admins rename the group", "renamed", alsoTell: null,
            stamp => _store.RenameAsync(groupId, me, name, stamp, CancellationToken.None));
    }

    private void DissolveGroup(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule);
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long groupId = request.GroupId!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            GroupDissolved dissolved;
            _members.BeginChange(groupId);
            try
            {
                dissolved = await _store.DissolveAsync(groupId, me, Now(), CancellationToken.None);
            }
            finally
            {
                await _members.EndChange(groupId);
            }
            if (dissolved.Result != GroupChangeResult.Done)
            {
                Fail(pending, dissolved.Result, "only the owner dissolves the group");
                return;
            }
            PushDissolved(groupId, me, [.. dissolved.Members]);
            pending.Complete(ErrorCodes.Ok, "dissolved");
        });
    }

    /// <summary>
    /// The frame of every action on one group that writes at most one system entry: the store call (inside the member
    /// cache's bracket when it changes members or roles), the `group_event` push, then the answer.
    /// </summary>
    private void RunChange(RequestContext ctx, long groupId, bool changesMembers, string forbidden, string done, uint? alsoTell,
        Func<EntryStamp, Task<GroupChange>> change)
    {
        uint me = ctx.Session.UserId;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            GroupChange result;
            if (changesMembers) _members.BeginChange(groupId);
            try
            {
                result = await change(Stamp());
            }
            finally
            {
                if (changesMembers) await _members.EndChange(groupId);
            }
            if (result.Entry is { } entry) await PushEventAsync(entry, alsoTell);
            switch (result.Result)
            {
                case GroupChangeResult.Done:
                    pending.Complete(ErrorCodes.Ok, done);
                    break;
                case GroupChangeResult.Dissolved:
                    // The owner left as the last member (leave_group): the group went with them.
                    PushDissolved(groupId, me, [me]);
                    pending.Complete(ErrorCodes.Ok, "left; you were the last member, so the group is dissolved");
                    break;
                default:
                    Fail(pending, result.Result, forbidden);
                    break;
            }
        });
    }

    /// <summary>
    /// `group_event` of a stored system entry to the group's members as they are after it (read after the commit), and
    /// to <paramref name="alsoTell"/> (the member who was removed or left: told about themselves, then nothing more).
    /// A failed read of the members loses the pushes only: the change is stored, and members catch up by seq.
    /// </summary>
    private async Task PushEventAsync(GroupEntry entry, uint? alsoTell = null)
    {
        GroupMembership members;
        try
        {
            members = await _members.MembersAsync(entry.GroupId, CancellationToken.None);
        }
        catch (Exception e)
        {
            LogPushLost(_logger, entry.GroupId, entry.Event ?? entry.Type, e.Message);
            return;
        }
        // One push of the entry's seq: the member who went gets it in its place in the group's order, then nothing more.
        uint[] users = alsoTell is uint gone && !members.Contains(gone) ? [.. members.UserIds, gone] : members.UserIds;
        _delivery.ToGroup(new GroupSeq(entry.GroupId, entry.Seq), users, Frames.CreatePush(PushNames.GroupEvent, entry, GroupJson.WriteEvent));
    }

    /// <summary>`group_event` `dissolved` (no seq: no entry is written) to those who were members.</summary>
    private void PushDissolved(long groupId, uint actor, uint[] members) =>
        Push(members, Frames.CreatePush(PushNames.GroupEvent, (groupId, actor), static (w, s) =>
        {
            w.WriteNumber("group_id"u8, s.groupId);
            w.WriteString("event"u8, "dissolved"u8);
            w.WriteNumber("actor_id"u8, s.actor);
            GroupJson.WriteUserIds(w, []);
        }));
}
