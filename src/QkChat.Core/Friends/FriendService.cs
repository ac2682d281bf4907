using System.Text.Json;
using Microsoft.Extensions.Logging;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Friends;

/// <summary>
/// The friend actions of protocol.md §5 (Users and friends) and their pushes (§6). Handlers check fields on the
/// reactor, then continue off it against the store. Notifications that find no live device stay owed in the
/// database (friend_requests.target_notified / requester_notified) and are pushed when the user next signs in;
/// the store locks a notice while it is pushed, so a live push and a login push never both deliver it.
/// Design notes: docs/friends.md.
/// </summary>
public sealed partial class FriendService
{
    // get_friend_requests answers at most this many per direction, so the answer fits a 64 KiB frame even when
    // every message is 200 characters of 3-byte UTF-8 (about 750 bytes an entry).
    public const int RequestsPerDirection = 40;

    // get_friend_list pages: about 110 bytes a friend keeps 500 within a 64 KiB frame.
    public const int FriendListMaxLimit = 500;

    // Owed notices pushed at one login: bounds the burst into a fresh connection's send queue; the rest follow
    // at the next login, and get_friend_requests shows every pending request anyway.
    public const int OwedNoticesPerLogin = 100;

    private readonly IFriendStore _store;
    private readonly IDelivery _delivery;
    private readonly IPresenceView _presence;
    private readonly BlockSetCache _blocks;
    private readonly IAuditLog _audit;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IPerMinuteBudget? _searchBudget;

    /// <summary>
    /// search_users per user per minute. An exact e-mail query answers "is this address registered", so without a
    /// budget one account could test a list of addresses at the request rate; 30 a minute is more than a person
    /// types (a debounced search-as-you-type sends a few a second only while typing) and turns a list of a million
    /// addresses into weeks per account. The server sets it from account.search_users_per_min.
    /// </summary>
    public const int DefaultSearchesPerMinute = 30;

    /// <summary>Read per request, so a configuration reload may change it.</summary>
    public int SearchesPerMinute { get; set; } = DefaultSearchesPerMinute;

    /// <param name="blocks">Shared with messaging and presence; this service invalidates it on block and unblock.</param>
    /// <param name="audit">Where block_user and unblock_user are recorded (protocol.md §8 security events).</param>
    /// <param name="searchBudget">search_users' budget per user (null: unlimited, for unit tests that build no Redis).</param>
    public FriendService(IFriendStore store, IDelivery delivery, IPresenceView presence, BlockSetCache blocks, IAuditLog audit, ILogger logger,
        TimeProvider? time = null, IPerMinuteBudget? searchBudget = null)
    {
        _searchBudget = searchBudget;
        _store = store;
        _delivery = delivery;
        _presence = presence;
        _blocks = blocks;
        _audit = audit;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Raised (off the reactor) after two users became friends or stopped being friends, once the database holds
    /// the change; friend-set caches subscribe. Handlers must be quick and must not throw.
    /// </summary>
    public event Action<uint, uint>? FriendshipChanged;

    /// <summary>The friend sets: dropped (here and, through their notices, on every node) before the event and before
    /// the change's answer (docs/cluster.md, "Caches"). Null in tests without them.</summary>
    public FriendSetCache? FriendSets { get; init; }

    public void Register(ActionRouter router, Dispatcher dispatcher)
    {
        router.Register(Actions.SearchUsers, allowedBeforeLogin: false, SearchUsers);
        router.Register(Actions.FriendRequest, allowedBeforeLogin: false, SendFriendRequest);
        router.Register(Actions.RespondFriendRequest, allowedBeforeLogin: false, RespondFriendRequest);
        router.Register(Actions.GetFriendRequests, allowedBeforeLogin: false, GetFriendRequests);
        router.Register(Actions.GetFriendList, allowedBeforeLogin: false, GetFriendList);
        router.Register(Actions.DeleteFriend, allowedBeforeLogin: false, DeleteFriend);
        RegisterSocial(router);
        dispatcher.SignedIn += OnSignedIn;
    }

    /// <summary>Pushes what the user was owed while offline; runs on the reactor, so the work goes elsewhere.</summary>
    private void OnSignedIn(Session session)
    {
        uint userId = session.UserId;
        _ = Task.Run(async () =>
        {
            try
            {
                int delivered = await _store.DeliverOwedNoticesAsync(userId, OwedNoticesPerLogin, Deliver, CancellationToken.None);
                if (delivered > 0) LogOwedDelivered(_logger, userId, delivered);
            }
            catch (Exception e)
            {
                // Still owed in the database: the next login tries again.
                LogNoticeFailed(_logger, userId, e.Message);
            }
            finally
            {
                Interlocked.Increment(ref _owedChecksCompleted);
            }
        });
    }

    private long _owedChecksCompleted;

    /// <summary>
    /// Login-time owed-notice checks finished (delivered, nothing owed, or failed). Tests wait for it to reach their
    /// number of logins before asserting that nothing more is pushed, instead of sleeping.
    /// </summary>
    public long OwedChecksCompleted => Interlocked.Read(ref _owedChecksCompleted);

    /// <summary>Delivers one notice now if its recipient is online; otherwise it stays owed.</summary>
    private async Task NotifyAsync(NoticeKind kind, ulong requestId, uint recipientId)
    {
        try
        {
            await _store.DeliverNoticeAsync(kind, requestId, Deliver, CancellationToken.None);
        }
        catch (Exception e)
        {
            LogNoticeFailed(_logger, recipientId, e.Message);
        }
    }

    private bool Deliver(FriendNotice notice)
    {
        var frame = notice.Kind == NoticeKind.Request
            ? Frames.CreatePush(PushNames.FriendRequest, notice, WriteRequestPush)
            : Frames.CreatePush(PushNames.FriendRequestResult, notice, WriteResultPush);
        return _delivery.ToUser(notice.RecipientId, frame) > 0;
    }

    private static readonly Action<Utf8JsonWriter, FriendNotice> WriteRequestPush = static (w, n) =>
    {
        w.WriteNumber("friend_request_id"u8, n.RequestId);
        w.WriteStartObject("from"u8);
        w.WriteNumber("user_id"u8, n.OtherId);
        w.WriteString("username"u8, n.OtherUsername);
        w.WriteEndObject();
        w.WriteString("message"u8, n.Message);
        w.WriteNumber("created_at"u8, n.CreatedAt);
    };

    private static readonly Action<Utf8JsonWriter, FriendNotice> WriteResultPush = static (w, n) =>
    {
        w.WriteNumber("friend_request_id"u8, n.RequestId);
        w.WriteNumber("user_id"u8, n.OtherId);
        w.WriteString("username"u8, n.OtherUsername);
        w.WriteBoolean("accepted"u8, n.Accepted);
    };

    private async Task RaiseFriendshipChangedAsync(uint a, uint b)
    {
        if (FriendSets is { } sets) await sets.Invalidate(a, b);
        try
        {
            FriendshipChanged?.Invoke(a, b);
        }
        catch (Exception e)
        {
            LogInternal(_logger, e);
        }
    }

    /// <summary>Reads the body; answers INVALID_ARGUMENT and returns null on an ill-typed field (rules follow, per action).</summary>
    private static FriendRequest? Parse(RequestContext ctx) => RequestFields.Parse(ctx, FriendRequest.Json);

    private static bool Check(RequestContext ctx, string? problem)
    {
        if (problem is null) return true;
        ctx.Respond(ErrorCodes.InvalidArgument, problem);
        return false;
    }

    /// <summary>Runs <paramref name="work"/> off the reactor; OffReactor answers UNAVAILABLE or INTERNAL if it throws.</summary>
    private void RunAsync(RequestContext ctx, Func<PendingResponse, Task> work) => OffReactor.Run(ctx, _logger, work);

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();
}
