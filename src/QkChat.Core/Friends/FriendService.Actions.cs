using System.Text.Json;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Friends;

/// <summary>The six actions. Authorization: every query is keyed by the caller's own user id from the session.</summary>
public sealed partial class FriendService
{
    private void SearchUsers(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.Query(request.Query, out var search)) || !Check(ctx, FriendRules.Limit(request.Limit, out int limit))) return;
        if (search is { ExactId: null, Email: null, UsernamePrefix: null })
        {
            // Nothing a user could be found by (e.g. "1' -- "): an empty answer without touching the database.
            ctx.Respond(ErrorCodes.Ok, "ok", Array.Empty<(UserCard, string)>(), WriteUsers);
            return;
        }
        uint me = ctx.Session.UserId;
        int perMinute = SearchesPerMinute;
        RunAsync(ctx, async pending =>
        {
            // Per user, not per connection or address: a user's devices share it (docs/friends.md).
            if (_searchBudget is not null
                && await _searchBudget.TakeAsync(me.ToString(System.Globalization.CultureInfo.InvariantCulture), perMinute, CancellationToken.None) is > 0 and var retryAfterMs)
            {
                pending.Complete(ErrorCodes.RateLimited, "too many searches; wait before searching again",
                    retryAfterMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                return;
            }
            var users = await _store.SearchAsync(search, limit, CancellationToken.None);
            // Status is read here, not in the writer: the writer runs on the caller's reactor and must stay cheap.
            // A user in a block with the caller is still found (so that they can be unblocked), but looks offline.
            var blocked = await _blocks.BlockedWithAsync(me, CancellationToken.None);
            var rows = users.Select(u => (u, StatusSeenBy(blocked, u.UserId))).ToArray();
            pending.Complete(ErrorCodes.Ok, "ok", rows, WriteUsers);
        });
    }

    private static readonly Action<Utf8JsonWriter, (UserCard User, string Status)[]> WriteUsers = static (w, rows) =>
    {
        w.WriteStartArray("users"u8);
        foreach (var (user, status) in rows)
        {
            w.WriteStartObject();
            w.WriteNumber("user_id"u8, user.UserId);
            w.WriteString("username"u8, user.Username);
            w.WriteString("status"u8, status);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    };

    private void SendFriendRequest(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.Identifier(request.UserIdentifier, out var target)) || !Check(ctx, FriendRules.Message(request.Message))) return;
        uint me = ctx.Session.UserId;
        if (target.Kind == TargetKind.UserId && target.UserId == me)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "user_identifier: you cannot send a friend request to yourself");
            return;
        }
        string message = request.Message ?? "";
        RunAsync(ctx, async pending =>
        {
            var other = await _store.FindAsync(target, CancellationToken.None);
            if (other is null)
            {
                pending.Complete(ErrorCodes.NotFound, "user_identifier: no such user");
                return;
            }
            if (other.UserId == me)
            {
                pending.Complete(ErrorCodes.InvalidArgument, "user_identifier: you cannot send a friend request to yourself");
                return;
            }
            // protocol.md §8: blocking is checked before friendship, in either direction (docs/friends.md).
            if (await _blocks.IsBlockedAsync(me, other.UserId, CancellationToken.None))
            {
                pending.Complete(ErrorCodes.Forbidden, "a block between you and this user forbids friend requests");
                return;
            }
            var result = await _store.SendRequestAsync(me, other.UserId, message, Now(), CancellationToken.None);
            switch (result.Outcome)
            {
                case SendOutcome.AlreadyFriends:
                    pending.Complete(ErrorCodes.AlreadyExists, "you are already friends");
                    return;
                case SendOutcome.AlreadyPending:
                    pending.Complete(ErrorCodes.AlreadyExists, "a friend request to this user is already pending");
                    return;
                case SendOutcome.TargetNotFound:
                    pending.Complete(ErrorCodes.NotFound, "user_identifier: no such user");
                    return;
                case SendOutcome.Created:
                    LogRequestSent(_logger, me, other.UserId);
                    pending.Complete(ErrorCodes.Ok, "friend request sent", (result.RequestId, false), WriteRequestAnswer);
                    await NotifyAsync(NoticeKind.Request, result.RequestId, other.UserId);
                    return;
                case SendOutcome.BecameFriends:
                    LogBecameFriends(_logger, me, other.UserId);
                    await RaiseFriendshipChangedAsync(me, other.UserId);
                    pending.Complete(ErrorCodes.Ok, "you are now friends", (result.RequestId, true), WriteRequestAnswer);
                    // The caller's side is live only: the caller is online by definition, and the answer says it too.
                    Deliver(new FriendNotice(NoticeKind.Result, result.RequestId, me, other.UserId, other.Username, "", 0, Accepted: true));
                    await NotifyAsync(NoticeKind.Result, result.RequestId, other.UserId);
                    return;
            }
        });
    }

    private static readonly Action<Utf8JsonWriter, (ulong Id, bool BecameFriends)> WriteRequestAnswer = static (w, a) =>
    {
        w.WriteNumber("friend_request_id"u8, a.Id);
        w.WriteBoolean("became_friends"u8, a.BecameFriends);
    };

    private void RespondFriendRequest(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.RequestId(request.FriendRequestId, out ulong id))) return;
        if (request.Accept is not { } accept)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "accept: required (true or false)");
            return;
        }
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var result = await _store.RespondAsync(me, id, accept, Now(), CancellationToken.None);
            switch (result.Outcome)
            {
                case RespondOutcome.NotFound:
                    pending.Complete(ErrorCodes.NotFound, "friend_request_id: no such friend request to you");
                    return;
                case RespondOutcome.AlreadyAnswered:
                    pending.Complete(ErrorCodes.AlreadyExists, result.WasAccepted ? "already accepted" : "already rejected",
                        result.WasAccepted, static (w, accepted) => w.WriteBoolean("accepted"u8, accepted));
                    return;
                case RespondOutcome.Accepted:
                    LogBecameFriends(_logger, me, result.RequesterId);
                    // Before the answer, as every friendship change (docs/cluster.md, "Caches").
                    await RaiseFriendshipChangedAsync(me, result.RequesterId);
                    pending.Complete(ErrorCodes.Ok, "friend request accepted");
                    await NotifyAsync(NoticeKind.Result, id, result.RequesterId);
                    return;
                case RespondOutcome.Rejected:
                    LogRejected(_logger, me, result.RequesterId);
                    pending.Complete(ErrorCodes.Ok, "friend request rejected");
                    await NotifyAsync(NoticeKind.Result, id, result.RequesterId);
                    return;
            }
        });
    }

    private void GetFriendRequests(RequestContext ctx)
    {
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var lists = await _store.ListRequestsAsync(me, RequestsPerDirection, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, "ok", lists, WriteRequestLists);
        });
    }

    private static readonly Action<Utf8JsonWriter, FriendRequestLists> WriteRequestLists = static (w, lists) =>
    {
        WriteRequestList(w, "incoming"u8, lists.Incoming);
        WriteRequestList(w, "outgoing"u8, lists.Outgoing);
        w.WriteBoolean("incoming_more"u8, lists.IncomingMore);
        w.WriteBoolean("outgoing_more"u8, lists.OutgoingMore);
    };

    private static void WriteRequestList(Utf8JsonWriter w, ReadOnlySpan<byte> name, IReadOnlyList<FriendRequestEntry> entries)
    {
        w.WriteStartArray(name);
        foreach (var e in entries)
        {
            w.WriteStartObject();
            w.WriteNumber("friend_request_id"u8, e.RequestId);
            w.WriteNumber("user_id"u8, e.UserId);
            w.WriteString("username"u8, e.Username);
            w.WriteString("message"u8, e.Message);
            w.WriteNumber("created_at"u8, e.CreatedAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private void GetFriendList(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        int limit = request.Limit ?? FriendListMaxLimit;
        if (limit is < 1 or > FriendListMaxLimit)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "limit: 1 to 500");
            return;
        }
        uint after = 0;
        if (request.AfterUserId is not null && !Check(ctx, FriendRules.UserId(request.AfterUserId, "after_user_id", out after))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            var (friends, hasMore) = await _store.ListFriendsAsync(me, after, limit, CancellationToken.None);
            var blocked = await _blocks.BlockedWithAsync(me, CancellationToken.None);
            var presence = await _presence.OverAllNodesAsync(friends.Select(f => f.UserId).ToArray(), CancellationToken.None);
            // A friend in a block with me looks offline and never seen: last_seen would tell when they were active.
            var rows = friends.Select(f => blocked.Contains(f.UserId)
                ? new FriendRow(f.UserId, f.Username, "offline", null, f.CategoryId, f.Remark)
                : new FriendRow(f.UserId, f.Username, presence.VisibleStatus(f.UserId), presence.LastSeen(f.UserId) ?? f.LastSeenAt, f.CategoryId,
                    f.Remark)).ToArray();
            pending.Complete(ErrorCodes.Ok, "ok", (rows, hasMore), WriteFriends);
        });
    }

    private readonly record struct FriendRow(uint UserId, string Username, string Status, long? LastSeen, uint CategoryId, string Remark);

    private static readonly Action<Utf8JsonWriter, (FriendRow[] Rows, bool HasMore)> WriteFriends = static (w, s) =>
    {
        w.WriteStartArray("friends"u8);
        int written = 0;
        foreach (var f in s.Rows)
        {
            // Remarks (up to 64 characters each) can push 500 entries past the 64 KiB frame: stop at the budget and
            // say has_more, so the client continues with after_user_id of the last entry it got.
            if (written > 0 && w.BytesCommitted + w.BytesPending + FriendRowBound(f) > FriendListBudgetBytes) break;
            written++;
            w.WriteStartObject();
            w.WriteNumber("user_id"u8, f.UserId);
            w.WriteString("username"u8, f.Username);
            w.WriteString("status"u8, f.Status);
            if (f.LastSeen is { } seen) w.WriteNumber("last_seen"u8, seen);
            else w.WriteNull("last_seen"u8);
            w.WriteNumber("group_id"u8, f.CategoryId);
            w.WriteString("remark"u8, f.Remark);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("has_more"u8, s.HasMore || written < s.Rows.Length);
    };

    // 56 KiB of entries leaves room for the envelope within the protocol's 64 KiB frame.
    private const int FriendListBudgetBytes = 56 * 1024;

    // Fixed members stay under 200 bytes with a 32-character username; a remark char writes at most 6 bytes (\uXXXX).
    private static int FriendRowBound(in FriendRow f) => 200 + f.Remark.Length * 6;

    private void DeleteFriend(RequestContext ctx)
    {
        if (Parse(ctx) is not { } request) return;
        if (!Check(ctx, FriendRules.UserId(request.FriendId, "friend_id", out uint friendId))) return;
        uint me = ctx.Session.UserId;
        RunAsync(ctx, async pending =>
        {
            if (friendId == me || !await _store.DeleteFriendshipAsync(me, friendId, CancellationToken.None))
            {
                pending.Complete(ErrorCodes.NotFound, "friend_id: not your friend");
                return;
            }
            LogDeleted(_logger, me, friendId);
            // Before the answer: the caches here and (a notice queued first) on the other nodes drop the friendship, so
            // a send after this answer is judged without it.
            await RaiseFriendshipChangedAsync(me, friendId);
            pending.Complete(ErrorCodes.Ok, "friend deleted");
            // Live only (docs/friends.md): after a reconnect get_friend_list is the truth.
            _delivery.ToUser(friendId, Frames.CreatePush(PushNames.FriendDeleted, me, static (w, id) => w.WriteNumber("user_id"u8, id)));
        });
    }
}
