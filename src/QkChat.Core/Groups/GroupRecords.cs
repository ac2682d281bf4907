namespace QkChat.Core.Groups;

/// <summary>A member's role (protocol.md §9); stored as this number in chat_group_members.role.</summary>
public enum GroupRole : byte
{
    Member = 0,
    Admin = 1,
    Owner = 2,
}

/// <summary>Entry types and system events of a group timeline, as on the wire (protocol.md §9).</summary>
public static class GroupEntryTypes
{
    public const string Text = "text";
    public const string System = "system";

    public const string Created = "created";
    public const string MemberAdded = "member_added";
    public const string MemberRemoved = "member_removed";
    public const string MemberLeft = "member_left";
    public const string RoleChanged = "role_changed";
    public const string OwnerTransferred = "owner_transferred";
    public const string Renamed = "renamed";
}

/// <summary>
/// One entry of a group's timeline as stored (protocol.md §9 group entry). <see cref="Event"/> and
/// <see cref="UserIds"/> are set for `system` entries only (UserIds is empty otherwise); a recalled entry has no content.
/// </summary>
public sealed record GroupEntry(long GroupId, long Seq, long MessageId, uint SenderId, string Type, string Content, long Timestamp,
    bool Recalled, string? Event, IReadOnlyList<uint> UserIds, long? FileId = null, QkChat.Core.Files.StoredFile? File = null);

/// <summary>
/// A text entry to append. <see cref="MessageId"/> and <see cref="Timestamp"/> are minted by the caller (MessageIds);
/// the seq is assigned by the store. <see cref="ClientMsgId"/> makes a retry idempotent per (group, sender), compared
/// byte for byte.
/// </summary>
public sealed record NewGroupEntry(long GroupId, uint SenderId, long MessageId, string? ClientMsgId, string Content, long Timestamp,
    QkChat.Core.Files.StoredFile? File = null);

/// <summary>A stored `text` entry whose terms the search index takes (GroupSearchIndexer, sql/0009_group_search.sql).</summary>
public sealed record IndexedGroupEntry(long MessageId, long GroupId, long Seq, string Content);

/// <summary>The id and time of a system entry an action writes (minted by the caller like any message id).</summary>
public readonly record struct EntryStamp(long MessageId, long Timestamp);

/// <summary>What appending one entry of a batch did, read from what the database holds.</summary>
public enum AppendResult : byte
{
    /// <summary>Stored at <see cref="AppendOutcome.Seq"/>: answer with it and fan it out.</summary>
    Stored,

    /// <summary>
    /// The same sender stored the exact same client_msg_id in this group before (or earlier in the batch): the outcome
    /// carries the first entry's seq, id and timestamp; nothing new was stored or is fanned out.
    /// </summary>
    Duplicate,

    /// <summary>The group does not exist, is dissolved, or the sender is not a member: nothing stored, no seq used (NOT_FOUND).</summary>
    NotMember,

    /// <summary>Its message_id is taken by another entry: nothing stored, no seq used, never answered as sent.</summary>
    NotStored,
}

/// <summary>The outcome of one appended entry: seq, message id and timestamp to answer (the first entry's for a duplicate).</summary>
public readonly record struct AppendOutcome(AppendResult Result, long Seq, long MessageId, long Timestamp);

/// <summary>What a membership or group action found; the store checks it in the transaction that makes the change.</summary>
public enum GroupChangeResult : byte
{
    Done,

    /// <summary>Nothing to do (a role already held, a rename to the same name): no entry written.</summary>
    Unchanged,

    /// <summary>The group does not exist, is dissolved, or the actor (or the target) is not a member.</summary>
    NotFound,

    /// <summary>The actor's role does not allow it (<see cref="GroupRules"/>).</summary>
    Forbidden,

    /// <summary>Adding would pass the member cap: nobody was added.</summary>
    OverCap,

    /// <summary>The last member, the owner, left: the group is dissolved.</summary>
    Dissolved,
}

/// <summary>The outcome of an action that writes at most one system entry (which the caller pushes as group_event).</summary>
public sealed record GroupChange(GroupChangeResult Result, GroupEntry? Entry)
{
    public static readonly GroupChange NotFound = new(GroupChangeResult.NotFound, null);
    public static readonly GroupChange Forbidden = new(GroupChangeResult.Forbidden, null);
    public static readonly GroupChange Unchanged = new(GroupChangeResult.Unchanged, null);
}

/// <summary>add_group_members: who was added (in the entry) and who already was a member.</summary>
public sealed record MembersAdded(GroupChangeResult Result, GroupEntry? Entry, IReadOnlyList<uint> Added, IReadOnlyList<uint> Already);

/// <summary>A new group: its id and the seq of its newest entry (`created`, or `member_added` when members were given).</summary>
public sealed record GroupCreated(long GroupId, long Seq, IReadOnlyList<GroupEntry> Entries);

/// <summary>dissolve_group: the members at that moment (to be told), or NotFound / Forbidden.</summary>
public sealed record GroupDissolved(GroupChangeResult Result, IReadOnlyList<uint> Members);

/// <summary>get_group_info.</summary>
public sealed record GroupInfo(long GroupId, string Name, uint OwnerId, long CreatedAt, int MemberCount, long MaxSeq);

/// <summary>One row of get_group_members (status is the caller's to add from presence).</summary>
public sealed record GroupMember(uint UserId, string Username, GroupRole Role, long JoinedAt);

/// <summary>A page of members ordered by user id.</summary>
public sealed record GroupMemberPage(IReadOnlyList<GroupMember> Members, bool HasMore);

/// <summary>One of my groups (get_groups): unread counts `text` entries after max(read_seq, joined_seq), not mine, not recalled.</summary>
public sealed record GroupSummary(long GroupId, string Name, GroupRole Role, int MemberCount, long MaxSeq, long ReadSeq, int UnreadCount,
    GroupEntry? LastEntry);

/// <summary>What recall found.</summary>
public enum GroupRecallResult : byte
{
    Recalled,
    AlreadyRecalled,

    /// <summary>No such group or entry for this user, or the entry is a system entry.</summary>
    NotFound,

    Forbidden,
    WindowExpired,
}

/// <summary>A recall's outcome with the group's current members (to be told on <see cref="GroupRecallResult.Recalled"/>).</summary>
public sealed record GroupRecall(GroupRecallResult Result, IReadOnlyList<uint> Members);

/// <summary>
/// A group's current members, by user id, with their roles and joined seqs (parallel arrays, as read, never changed).
/// </summary>
public sealed class GroupMembership(uint[] userIds, GroupRole[] roles, long[] joinedSeqs)
{
    public static readonly GroupMembership Empty = new([], [], []);

    public uint[] UserIds { get; } = userIds;
    public GroupRole[] Roles { get; } = roles;
    public long[] JoinedSeqs { get; } = joinedSeqs;

    /// <summary>The newest joined seq: an entry at or after it goes to every member (no filtering, no array).</summary>
    public long NewestJoinedSeq { get; } = joinedSeqs.Length == 0 ? 0 : joinedSeqs.Max();

    public int Count => UserIds.Length;

    /// <summary>The role of <paramref name="userId"/>, or null when they are not a member.</summary>
    public GroupRole? RoleOf(uint userId)
    {
        int i = Array.BinarySearch(UserIds, userId);
        return i >= 0 ? Roles[i] : null;
    }

    public bool Contains(uint userId) => Array.BinarySearch(UserIds, userId) >= 0;

    /// <summary>Who sees the entry at <paramref name="seq"/>: the members who joined at or before it (protocol.md §9).</summary>
    public uint[] ReceiversOf(long seq)
    {
        if (seq >= NewestJoinedSeq) return UserIds;
        var list = new List<uint>(UserIds.Length);
        for (int i = 0; i < UserIds.Length; i++)
            if (JoinedSeqs[i] <= seq) list.Add(UserIds[i]);
        return [.. list];
    }
}
