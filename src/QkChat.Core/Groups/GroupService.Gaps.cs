using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Groups;

/// <summary>
/// The entries a node's push order is missing (docs/cluster.md, "Group order"): read back from the timeline with the
/// read sync_group_messages uses, and pushed as their first push was (`group_message`, or `group_event` for a system
/// entry), to the members as they are now.
/// </summary>
public sealed partial class GroupService
{
    public async Task<IReadOnlyList<GapEntry>> EntriesAsync(long groupId, long afterSeq, long beforeSeq, CancellationToken ct)
    {
        var members = await _members.MembersAsync(groupId, ct);
        if (members.Count == 0 || beforeSeq - afterSeq <= 1) return [];
        // The timeline read answers a member from the seq they joined at: the member who joined first sees the most. A
        // seq before that has no current member who gets it.
        int first = 0;
        for (int i = 1; i < members.Count; i++)
            if (members.JoinedSeqs[i] < members.JoinedSeqs[first]) first = i;
        var page = await _store.SyncAsync(groupId, members.UserIds[first], afterSeq, (int)(beforeSeq - afterSeq - 1), ct);
        var found = new List<GapEntry>(page?.Count ?? 0);
        foreach (var e in page ?? [])
        {
            if (e.Seq >= beforeSeq) break;
            uint[] users = members.ReceiversOf(e.Seq);
            if (e.Event is null)
            {
                found.Add(new GapEntry(e.Seq, users, Frames.CreatePush(PushNames.GroupMessage, e, GroupJson.WriteMembers)));
                continue;
            }
            // A member who was removed or left is told of it (PushEventAsync), though no longer a member.
            if (e.Event is GroupEntryTypes.MemberRemoved or GroupEntryTypes.MemberLeft)
                users = [.. users, .. e.UserIds.Where(u => !members.Contains(u))];
            found.Add(new GapEntry(e.Seq, users, Frames.CreatePush(PushNames.GroupEvent, e, GroupJson.WriteEvent)));
        }
        return found;
    }
}
