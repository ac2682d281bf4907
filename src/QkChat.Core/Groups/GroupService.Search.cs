using QkChat.Core.Messaging;

namespace QkChat.Core.Groups;

/// <summary>search_messages' group half (Messaging's <see cref="IGroupChats"/> port; choices in docs/messaging.md).</summary>
public sealed partial class GroupService
{
    public async Task<IReadOnlyList<GroupSearchHit>?> SearchGroupsAsync(uint userId, long? groupId, string keyword, int limit, CancellationToken ct)
    {
        // Read your writes, as for one-to-one messages: the terms of every entry answered `sent` before this are written.
        await Indexer.WhenSearchableAsync();
        IReadOnlyList<GroupEntry>? found;
        if (groupId is { } only)
        {
            // The store checks the membership first, so a non-member gets NOT_FOUND whatever the keyword.
            found = await _store.SearchAsync(userId, only, SearchText.GroupQuery(keyword, [only]), limit, ct);
        }
        else
        {
            // The query names the caller's groups (their terms only); the store's join on the membership stays the rule,
            // so a removal between these two reads still hides the group.
            var groups = await _store.MyGroupIdsAsync(userId, ct);
            if (SearchText.GroupQuery(keyword, groups) is not { } query) return [];
            found = await _store.SearchAsync(userId, null, query, limit, ct);
        }
        return found?.Select(e => new GroupSearchHit(e.MessageId, GroupJson.UpperBound(e), w => GroupJson.WriteMembers(w, e))).ToList();
    }
}
