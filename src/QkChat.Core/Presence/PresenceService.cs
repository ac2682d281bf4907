using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Core.Friends;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Presence;

/// <summary>
/// status_update, and the presence life of devices: a login makes a device online, a close makes it offline.
/// When what friends see changes, one worker tells the online friends, in the order the changes happened (one
/// queue: a quick online-then-offline never arrives reversed), and records last_seen and the cluster directory.
/// Pushes are droppable: a slow client re-reads get_friend_list.
/// </summary>
public sealed partial class PresenceService : IAsyncDisposable
{
    private readonly PresenceTracker _tracker;
    private readonly FriendSetCache _friends;
    private readonly BlockSetCache _blocks;
    private readonly IDelivery _delivery;
    private readonly ILastSeenStore _lastSeen;
    private readonly IPresenceDirectory _directory;
    private readonly ILogger _logger;
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    /// <param name="blocks">Friends in a block with the user are not told (protocol.md §7: the two see each other offline).</param>
    public PresenceService(PresenceTracker tracker, FriendSetCache friends, BlockSetCache blocks, IDelivery delivery, ILastSeenStore lastSeen,
        IPresenceDirectory directory, ILogger logger)
    {
        _tracker = tracker;
        _friends = friends;
        _blocks = blocks;
        _delivery = delivery;
        _lastSeen = lastSeen;
        _directory = directory;
        _logger = logger;
        _worker = Task.Run(RunAsync);
    }

    public void Register(ActionRouter router, Dispatcher dispatcher)
    {
        router.Register(Actions.StatusUpdate, allowedBeforeLogin: false, StatusUpdate);
        dispatcher.SignedIn += session => Apply(session.UserId, session.ClientId!, session, PresenceStatus.Online);
        // Not only logged-in sessions: logout clears LoggedIn before the close. Set(offline) removes the device only
        // if this session still holds it, so a device taken over by a newer session stays online.
        dispatcher.SessionClosed += session =>
        {
            if (session.UserId != 0 && session.ClientId is { } clientId) Apply(session.UserId, clientId, session, PresenceStatus.Offline);
        };
    }

    private void StatusUpdate(RequestContext ctx)
    {
        if (RequestFields.Parse(ctx, StatusUpdateRequest.Json) is not { } request) return;
        string? name = request.Status, clientId = request.ClientId;
        if (PresenceStatuses.ParseSettable(name) is not { } status)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "status: one of online, busy, away, invisible");
            return;
        }
        // The device is the connection's own: a request cannot set another device's (or user's) status.
        if (clientId is not null && clientId != ctx.Session.ClientId)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "client_id: not this connection's device");
            return;
        }
        Apply(ctx.Session.UserId, ctx.Session.ClientId!, ctx.Session, status);
        ctx.Respond(ErrorCodes.Ok, "status set to " + status.Name());
    }

    private void Apply(uint userId, string clientId, Session device, PresenceStatus status)
    {
        var change = _tracker.Set(userId, clientId, device, status);
        _work.Writer.TryWrite(new Work(change, clientId, status != PresenceStatus.Offline));
    }

    private readonly record struct Work(PresenceTracker.Change Change, string ClientId, bool DeviceOnline);

    private async Task RunAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            var change = work.Change;
            try
            {
                if (change.Before != change.After) await TellFriendsAsync(change);
                if (change.After == PresenceStatus.Offline && change.Before != PresenceStatus.Offline)
                    await _lastSeen.SetLastSeenAsync(change.UserId, change.LastSeen, CancellationToken.None);
                if (work.DeviceOnline) await _directory.DeviceOnlineAsync(change.UserId, work.ClientId, CancellationToken.None);
                else await _directory.DeviceOfflineAsync(change.UserId, work.ClientId, CancellationToken.None);
            }
            catch (Exception e)
            {
                // A backend outage must not stop presence: local pushes resume with the next change.
                LogFanOutFailed(_logger, change.UserId, e.Message);
            }
            if (!_delivery.IsOnline(change.UserId))
            {
                _friends.Forget(change.UserId);
                _blocks.Forget(change.UserId);
            }
        }
    }

    private async Task TellFriendsAsync(PresenceTracker.Change change)
    {
        var friends = await _friends.FriendsOfAsync(change.UserId, CancellationToken.None);
        if (friends.Count == 0) return;
        var blocked = await _blocks.BlockedWithAsync(change.UserId, CancellationToken.None);
        var frame = Frames.CreatePush(PushNames.Presence, change, static (w, c) =>
        {
            w.WriteNumber("user_id"u8, c.UserId);
            w.WriteString("status"u8, c.After.Name());
            w.WriteNumber("last_seen"u8, c.LastSeen);
        });
        // The whole set in one call (an implementation for several nodes groups it by node); a pooled buffer, not a list.
        uint[] receivers = ArrayPool<uint>.Shared.Rent(friends.Count);
        int n = 0;
        foreach (uint friend in friends)
            if (!blocked.Contains(friend)) receivers[n++] = friend;
        _delivery.ToUsers(receivers.AsSpan(0, n), frame, droppable: true);
        ArrayPool<uint>.Shared.Return(receivers);
    }

    /// <summary>Renews this node's directory entries (the ticker calls it; a crashed node's entries expire).</summary>
    public Task RefreshDirectoryAsync(IReadOnlyCollection<(uint, string)> devices) =>
        _directory.RefreshAsync(devices, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _worker;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "presence of user {UserId}: friends not told or last_seen not stored: {Error}")]
    private static partial void LogFanOutFailed(ILogger logger, uint userId, string error);
}
