namespace QkChat.Core.Groups;

/// <summary>
/// Chat groups in MariaDB (protocol.md §9): groups, members and one timeline per group. Every read names the calling
/// user and answers nothing (null, NotFound) unless they are a current member of a group that is not dissolved, so
/// existence is not revealed. Every action that writes a system entry takes the group's next seq in its own
/// transaction; <see cref="AppendAsync"/> takes the seqs of a whole batch.
/// </summary>
public interface IGroupStore
{
    /// <summary>
    /// Stores a batch of text entries, for one or several groups, in one transaction (durable when it returns). Each
    /// group's seqs are the next ones of its counter, without a gap, written with one UPDATE per batch. Outcomes in
    /// batch order, decided under the groups' locks from what the database holds. A stored entry also moves its sender's
    /// read_seq to it.
    /// </summary>
    Task<AppendOutcome[]> AppendAsync(IReadOnlyList<NewGroupEntry> batch, CancellationToken ct);

    /// <summary>
    /// Creates a group owned by <paramref name="ownerId"/> with entry 1 `created` and, when <paramref name="memberIds"/>
    /// names anyone besides the owner, entry 2 `member_added` (who is a friend is the caller's check).
    /// </summary>
    Task<GroupCreated> CreateAsync(uint ownerId, string name, IReadOnlyList<uint> memberIds, EntryStamp created, EntryStamp membersAdded,
        long now, CancellationToken ct);

    /// <summary>Adds users (actor: owner or admin); past <paramref name="maxMembers"/> nobody is added (OverCap).</summary>
    Task<MembersAdded> AddMembersAsync(long groupId, uint actorId, IReadOnlyList<uint> userIds, int maxMembers, EntryStamp stamp, CancellationToken ct);

    /// <summary>Removes a member (<see cref="GroupRules.CanRemove"/>), writing `member_removed`.</summary>
    Task<GroupChange> RemoveMemberAsync(long groupId, uint actorId, uint userId, EntryStamp stamp, CancellationToken ct);

    /// <summary>Leaves (`member_left`); the owner only as the last member, which dissolves the group (Dissolved, no entry).</summary>
    Task<GroupChange> LeaveAsync(long groupId, uint userId, EntryStamp stamp, CancellationToken ct);

    /// <summary>Makes a member admin or member (owner only), writing `role_changed`; the same role again is Unchanged.</summary>
    Task<GroupChange> SetRoleAsync(long groupId, uint actorId, uint userId, GroupRole role, EntryStamp stamp, CancellationToken ct);

    /// <summary>Hands ownership to a member (owner only); the old owner becomes admin; writes `owner_transferred`.</summary>
    Task<GroupChange> TransferOwnerAsync(long groupId, uint actorId, uint newOwnerId, EntryStamp stamp, CancellationToken ct);

    /// <summary>Renames (owner or admin), writing `renamed` with the new name as content.</summary>
    Task<GroupChange> RenameAsync(long groupId, uint actorId, string name, EntryStamp stamp, CancellationToken ct);

    /// <summary>Dissolves (owner only): afterwards the group is NotFound for everyone.</summary>
    Task<GroupDissolved> DissolveAsync(long groupId, uint actorId, long now, CancellationToken ct);

    Task<GroupInfo?> InfoAsync(long groupId, uint userId, CancellationToken ct);

    /// <summary>Newest first, seq below <paramref name="beforeSeq"/> (all when null), never before the user's joined seq; null for a non-member.</summary>
    Task<IReadOnlyList<GroupEntry>?> HistoryAsync(long groupId, uint userId, long? beforeSeq, int limit, CancellationToken ct);

    /// <summary>Oldest first, seq above <paramref name="afterSeq"/>, never before the user's joined seq; null for a non-member.</summary>
    Task<IReadOnlyList<GroupEntry>?> SyncAsync(long groupId, uint userId, long afterSeq, int limit, CancellationToken ct);

    /// <summary>Current members by user id, after <paramref name="afterUserId"/>; null for a non-member.</summary>
    Task<GroupMemberPage?> MembersAsync(long groupId, uint userId, uint? afterUserId, int limit, CancellationToken ct);

    /// <summary>Current members' ids (for fan-out and pushes); empty for an unknown or dissolved group.</summary>
    Task<IReadOnlyList<uint>> MemberIdsAsync(long groupId, CancellationToken ct);

    /// <summary>
    /// Current members by user id with their roles and the seq each joined at (what the fan-out caches: an entry goes
    /// to those who joined at or before it); empty for an unknown or dissolved group.
    /// </summary>
    Task<GroupMembership> MembershipAsync(long groupId, CancellationToken ct);

    /// <summary>
    /// <see cref="MembershipAsync"/> of several groups at once (a group without current members, unknown or dissolved
    /// may be missing from the answer). This default reads them one after another; a store that can read them in one
    /// query should.
    /// </summary>
    async Task<IReadOnlyDictionary<long, GroupMembership>> MembershipsAsync(IReadOnlyList<long> groupIds, CancellationToken ct)
    {
        var found = new Dictionary<long, GroupMembership>(groupIds.Count);
        foreach (long groupId in groupIds) found[groupId] = await MembershipAsync(groupId, ct);
        return found;
    }

    /// <summary>The largest message id of any group entry (0 when there is none): message ids start above it.</summary>
    Task<long> NewestMessageIdAsync(CancellationToken ct);

    /// <summary>The groups the user is a member of (not dissolved), by group id, each with its newest entry and unread count.</summary>
    Task<IReadOnlyList<GroupSummary>> MyGroupsAsync(uint userId, CancellationToken ct);

    /// <summary>
    /// Moves the user's read_seq up to <paramref name="upToSeq"/> (at most the group's max_seq), never back; returns
    /// the read_seq now stored, or null for a non-member.
    /// </summary>
    Task<long?> MarkReadAsync(long groupId, uint userId, long upToSeq, CancellationToken ct);

    /// <summary>Writes the search terms of stored text entries (<see cref="Messaging.SearchText.GroupTerms"/>); indexing twice is harmless.</summary>
    Task IndexAsync(IReadOnlyList<IndexedGroupEntry> entries, CancellationToken ct);

    /// <summary>
    /// Up to <paramref name="limit"/> unindexed text entries, not recalled, oldest first, from a little below the newest
    /// indexed one on (<see cref="GroupSearchIndexer.CatchUpLookback"/>: several group writers index in commit order, not id order).
    /// </summary>
    Task<IReadOnlyList<IndexedGroupEntry>> UnindexedAsync(int limit, CancellationToken ct);

    /// <summary>Unindexed text entries, not recalled, with a message id in [<paramref name="fromId"/>, <paramref name="toId"/>], oldest first.</summary>
    Task<IReadOnlyList<IndexedGroupEntry>> UnindexedBetweenAsync(long fromId, long toId, int limit, CancellationToken ct);

    /// <summary>The ids of the groups the user is a current member of (not dissolved), ascending.</summary>
    Task<IReadOnlyList<long>> MyGroupIdsAsync(uint userId, CancellationToken ct);

    /// <summary>
    /// search_messages over group entries: the `text` entries matching <paramref name="query"/> (a
    /// <see cref="Messaging.SearchText.GroupQuery"/> over the caller's groups; null matches nothing) in groups where the
    /// user is a current member (of <paramref name="groupId"/> only, when given), from the user's joined seq on, not
    /// recalled; newest (largest message id) first. Null when <paramref name="groupId"/> is given and the user is not
    /// its member (or it does not exist or is dissolved).
    /// </summary>
    Task<IReadOnlyList<GroupEntry>?> SearchAsync(uint userId, long? groupId, string? query, int limit, CancellationToken ct);

    /// <summary>Recalls a text entry (<see cref="GroupRules.CanRecall"/>): it keeps its seq, its content is erased.</summary>
    Task<GroupRecall> RecallAsync(long groupId, long seq, uint actorId, long now, CancellationToken ct);
}
