using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>Typed calls for the group chat actions (protocol.md §9); see <see cref="ChatClient.RequestAsync{TBody}"/>.</summary>
public sealed partial class ChatClient
{
    /// <param name="memberIds">Friends to add at once (optional); the creator is the owner.</param>
    public Task<Envelope> CreateGroupAsync(string name, long[]? memberIds = null, CancellationToken ct = default) =>
        RequestAsync(Actions.CreateGroup, new GroupRequest { Name = name, MemberIds = memberIds }, ct: ct);

    public Task<Envelope> GetGroupsAsync(CancellationToken ct = default) =>
        RequestAsync(Actions.GetGroups, new GroupRequest(), ct: ct);

    public Task<Envelope> GetGroupInfoAsync(long groupId, CancellationToken ct = default) =>
        RequestAsync(Actions.GetGroupInfo, new GroupRequest { GroupId = groupId }, ct: ct);

    public Task<Envelope> GetGroupMembersAsync(long groupId, int? limit = null, long? afterUserId = null, CancellationToken ct = default) =>
        RequestAsync(Actions.GetGroupMembers, new GroupRequest { GroupId = groupId, Limit = limit, AfterUserId = afterUserId }, ct: ct);

    public Task<Envelope> AddGroupMembersAsync(long groupId, long[] userIds, CancellationToken ct = default) =>
        RequestAsync(Actions.AddGroupMembers, new GroupRequest { GroupId = groupId, UserIds = userIds }, ct: ct);

    public Task<Envelope> RemoveGroupMemberAsync(long groupId, long userId, CancellationToken ct = default) =>
        RequestAsync(Actions.RemoveGroupMember, new GroupRequest { GroupId = groupId, UserId = userId }, ct: ct);

    public Task<Envelope> LeaveGroupAsync(long groupId, CancellationToken ct = default) =>
        RequestAsync(Actions.LeaveGroup, new GroupRequest { GroupId = groupId }, ct: ct);

    /// <param name="role"><c>admin</c> or <c>member</c>.</param>
    public Task<Envelope> SetGroupRoleAsync(long groupId, long userId, string role, CancellationToken ct = default) =>
        RequestAsync(Actions.SetGroupRole, new GroupRequest { GroupId = groupId, UserId = userId, Role = role }, ct: ct);

    public Task<Envelope> TransferGroupOwnerAsync(long groupId, long userId, CancellationToken ct = default) =>
        RequestAsync(Actions.TransferGroupOwner, new GroupRequest { GroupId = groupId, UserId = userId }, ct: ct);

    public Task<Envelope> RenameGroupAsync(long groupId, string name, CancellationToken ct = default) =>
        RequestAsync(Actions.RenameGroup, new GroupRequest { GroupId = groupId, Name = name }, ct: ct);

    public Task<Envelope> DissolveGroupAsync(long groupId, CancellationToken ct = default) =>
        RequestAsync(Actions.DissolveGroup, new GroupRequest { GroupId = groupId }, ct: ct);

    /// <param name="clientMsgId">Optional, at most 64 characters: the same id from the same sender in the same group is stored once.</param>
    /// <param name="type">Null sends none: the server takes <c>text</c>.</param>
    public Task<Envelope> SendGroupMessageAsync(long groupId, string content, string? clientMsgId = null, string? type = null,
        CancellationToken ct = default) =>
        RequestAsync(Actions.SendGroupMessage, new GroupRequest { GroupId = groupId, Content = content, ClientMsgId = clientMsgId, Type = type }, ct: ct);

    public Task<Envelope> GetGroupHistoryAsync(long groupId, int? limit = null, long? beforeSeq = null, CancellationToken ct = default) =>
        RequestAsync(Actions.GetGroupHistory, new GroupRequest { GroupId = groupId, Limit = limit, BeforeSeq = beforeSeq }, ct: ct);

    public Task<Envelope> SyncGroupMessagesAsync(long groupId, long afterSeq, int? limit = null, CancellationToken ct = default) =>
        RequestAsync(Actions.SyncGroupMessages, new GroupRequest { GroupId = groupId, AfterSeq = afterSeq, Limit = limit }, ct: ct);

    public Task<Envelope> MarkGroupReadAsync(long groupId, long upToSeq, CancellationToken ct = default) =>
        RequestAsync(Actions.MarkGroupRead, new GroupRequest { GroupId = groupId, UpToSeq = upToSeq }, ct: ct);

    public Task<Envelope> RecallGroupMessageAsync(long groupId, long seq, CancellationToken ct = default) =>
        RequestAsync(Actions.RecallGroupMessage, new GroupRequest { GroupId = groupId, Seq = seq }, ct: ct);
}
