using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Groups;

/// <summary>
/// Group chat (protocol.md §9, choices in docs/protocol.md "Group chat"): the actions over <see cref="IGroupStore"/>.
/// Split by concern: field rules and wiring (here), membership actions (GroupService.Members.cs), sends through the
/// write-behind <see cref="GroupWriters"/> and their fan-out (GroupService.Send.cs), reads, mark read and recall
/// (GroupService.Queries.cs). The store decides every rule under the group's lock; the checks here before it (a
/// cached membership, friendship) only choose the error a client sees first. Devices are reached only through
/// <see cref="IDelivery"/>, each push serialized once.
/// </summary>
public sealed partial class GroupService : IGroupChats, IGroupGapSource, IAsyncDisposable
{
    private readonly GroupOptions _options;
    private readonly IGroupStore _store;
    private readonly GroupMemberCache _members;
    private readonly FriendSetCache _friends;
    private readonly IDelivery _delivery;
    private readonly IPresenceView _presence;
    private readonly MessageIds _ids;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <param name="ids">The one-to-one messages' minter: group entries and messages share one id space.</param>
    /// <param name="writeStore">The writer's own store (its own connections), as for one-to-one sends.</param>
    public GroupService(GroupOptions options, MessagingOptions writerOptions, IGroupStore store, MessageIds ids, FriendSetCache friends,
        IDelivery delivery, IPresenceView presence, ILogger logger, TimeProvider? time = null, IGroupStore? writeStore = null)
    {
        _options = options;
        _store = store;
        _ids = ids;
        _friends = friends;
        _delivery = delivery;
        _presence = presence;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _members = new GroupMemberCache(store.MembershipAsync, loadMany: store.MembershipsAsync);
        // As for one-to-one messages: the indexer has the writers' connections and yields to their backlog.
        var writes = writeStore ?? store;
        Indexer = new GroupSearchIndexer(writes, writerOptions.QueueCapacity * 10, () => Writers!.Queued, logger);
        _ = Indexer.CatchUpAsync();
        Writers = new GroupWriters(options.Writers, writes, _members, writerOptions, Indexer, logger);
    }

    /// <summary>The group writers, groups sharded by id (group.writers).</summary>
    public GroupWriters Writers { get; }

    /// <summary>The search terms of group entries, written behind <see cref="Writers"/>.</summary>
    public GroupSearchIndexer Indexer { get; }

    /// <summary>The cached memberships (for tests and metrics).</summary>
    public GroupMemberCache Members => _members;

    /// <summary>
    /// Before the first request (after messaging's StartAsync, same minter): ids start above the largest group entry's
    /// too, so a clock stepped back across a restart cannot repeat an entry's id. Throws when MariaDB cannot say.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        long newest = await _store.NewestMessageIdAsync(ct);
        _ids.AdvancePast(newest);
        LogIdsStart(_logger, newest);
    }

    public void Register(ActionRouter router)
    {
        router.Register(Actions.CreateGroup, allowedBeforeLogin: false, CreateGroup);
        router.Register(Actions.GetGroups, allowedBeforeLogin: false, GetGroups);
        router.Register(Actions.GetGroupInfo, allowedBeforeLogin: false, GetGroupInfo);
        router.Register(Actions.GetGroupMembers, allowedBeforeLogin: false, GetGroupMembers);
        router.Register(Actions.AddGroupMembers, allowedBeforeLogin: false, AddGroupMembers);
        router.Register(Actions.RemoveGroupMember, allowedBeforeLogin: false, RemoveGroupMember);
        router.Register(Actions.LeaveGroup, allowedBeforeLogin: false, LeaveGroup);
        router.Register(Actions.SetGroupRole, allowedBeforeLogin: false, SetGroupRole);
        router.Register(Actions.TransferGroupOwner, allowedBeforeLogin: false, TransferGroupOwner);
        router.Register(Actions.RenameGroup, allowedBeforeLogin: false, RenameGroup);
        router.Register(Actions.DissolveGroup, allowedBeforeLogin: false, DissolveGroup);
        router.Register(Actions.SendGroupMessage, allowedBeforeLogin: false, SendGroupMessage);
        router.Register(Actions.GetGroupHistory, allowedBeforeLogin: false, GetGroupHistory);
        router.Register(Actions.SyncGroupMessages, allowedBeforeLogin: false, SyncGroupMessages);
        router.Register(Actions.MarkGroupRead, allowedBeforeLogin: false, MarkGroupRead);
        router.Register(Actions.RecallGroupMessage, allowedBeforeLogin: false, RecallGroupMessage);
    }

    private static GroupRequest? Parse(RequestContext ctx, params ReadOnlySpan<Func<GroupRequest, string?>> rules) =>
        RequestFields.Parse(ctx, GroupRequest.Json, rules);

    private static string? GroupIdRule(GroupRequest r) => MessageFieldRules.MessageIdRule(r.GroupId, "group_id");

    private static string? UserIdRule(GroupRequest r) => MessageFieldRules.UserId(r.UserId, "user_id");

    /// <summary>A group name: 1-64 Unicode characters, not only white space.</summary>
    private static string? NameRule(GroupRequest r)
    {
        if (r.Name is null) return "name: required";
        int chars = 0;
        foreach (var _ in r.Name.EnumerateRunes())
            if (++chars > GroupOptions.MaxNameChars) break;
        if (chars is < 1 or > GroupOptions.MaxNameChars) return $"name: 1-{GroupOptions.MaxNameChars} characters";
        return string.IsNullOrWhiteSpace(r.Name) ? "name: not only white space" : null;
    }

    /// <summary>An array of 9-digit user ids of <paramref name="min"/>-<paramref name="max"/> entries (null allowed when min is 0).</summary>
    private static string? UserIdsRule(long[]? ids, string field, int min, int max)
    {
        if (ids is null) return min == 0 ? null : field + ": required";
        if (ids.Length < min || ids.Length > max) return $"{field}: {min}-{max} user ids";
        foreach (long id in ids)
            if (MessageFieldRules.UserId(id, field) is { } problem) return problem;
        return null;
    }

    private static string? SeqRule(long? value, string field, bool required, long min) =>
        value is null ? (required ? field + ": required" : null)
        : value < min || value >= 1L << 53 ? $"{field}: an integer from {min} below 2^53"
        : null;

    /// <summary>The id and time of an entry written now, from the messages' minter.</summary>
    private EntryStamp Stamp()
    {
        long id = _ids.Next();
        return new EntryStamp(id, MessageIds.TimestampOf(id));
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A push to every device of <paramref name="users"/> (the frame's reference is taken over).</summary>
    private void Push(ReadOnlySpan<uint> users, OutboundFrame frame, Session? except = null) => _delivery.ToUsers(users, frame, except: except);

    private static void Fail(PendingResponse pending, GroupChangeResult result, string forbidden)
    {
        switch (result)
        {
            case GroupChangeResult.Forbidden:
                pending.Complete(ErrorCodes.Forbidden, forbidden);
                break;
            case GroupChangeResult.Unchanged:
                pending.Complete(ErrorCodes.Ok, "unchanged");
                break;
            default:
                pending.Complete(ErrorCodes.NotFound, "no such group or member");
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "message ids start above {NewestId}, the newest group entry's")]
    private static partial void LogIdsStart(ILogger logger, long newestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "group {GroupId}: {Event} stored, but its pushes were not sent ({Error})")]
    private static partial void LogPushLost(ILogger logger, long groupId, string @event, string error);

    /// <summary>My groups for get_conversations and get_unread_counts (Messaging's port, so it need not know Groups).</summary>
    public async Task<IReadOnlyList<GroupChat>> GroupChatsAsync(uint userId, CancellationToken ct)
    {
        var groups = await _store.MyGroupsAsync(userId, ct);
        return [.. groups.Select(g => new GroupChat(g.GroupId, g.Name, g.UnreadCount, g.LastEntry?.MessageId ?? 0, GroupJson.UpperBound(g.LastEntry),
            w =>
            {
                if (g.LastEntry is { } last) GroupJson.Write(w, last);
                else w.WriteNullValue();
            }))];
    }

    public async ValueTask DisposeAsync()
    {
        await Writers.DisposeAsync();
        await Indexer.DisposeAsync();
    }
}
