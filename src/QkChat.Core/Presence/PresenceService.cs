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
/// One worker writes each device step into the deployment's table (<see cref="IPresenceDirectory"/>, several nodes),
/// which answers whether what friends see changed over all nodes; if so this node, the only one to see it, tells the
/// online friends wherever they are, in the order the changes happened (one queue: a quick online-then-offline never
/// arrives reversed), and records last_seen. Pushes are droppable: a slow client re-reads get_friend_list.
/// </summary>
public sealed partial class PresenceService : IAsyncDisposable
{
    private readonly PresenceTracker _tracker;
    private readonly FriendSetCache _friends;
    private readonly BlockSetCache _blocks;
    private readonly IDelivery _delivery;
    private readonly ILastSeenStore _lastSeen;
    private readonly IPresenceDirectory? _directory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    /// <param name="blocks">Friends in a block with the user are not told (protocol.md §7: the two see each other offline).</param>
    /// <param name="directory">The deployment's table (several nodes); null: this node's view is the whole truth.</param>
    public PresenceService(PresenceTracker tracker, FriendSetCache friends, BlockSetCache blocks, IDelivery delivery, ILastSeenStore lastSeen,
        IPresenceDirectory? directory, ILogger logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
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
        // An offline step of a session that no longer holds the device (taken over here) changes nothing in the table.
        bool stillHere = status == PresenceStatus.Offline && _tracker.HasDevice(userId, clientId);
        _work.Writer.TryWrite(new Work(change, clientId, status, stillHere, -1));
    }

    /// <summary>
    /// Node <paramref name="node"/> holds no lease (it died, or this node starts under its number): its devices leave
    /// the table and the friends of users who went offline (or less present) by it are told, once over all nodes.
    /// </summary>
    /// <param name="lapsed">The lease was just seen to go: the reap is logged even when another node did the work.</param>
    public void ReapNode(int node, bool lapsed)
    {
        // One queued reap per number is enough (the liveness tick raises one every second while a reap's flag stands);
        // a lapse is news and is always queued, for its log line.
        lock (_reapsQueued)
            if (!_reapsQueued.Add(node) && !lapsed) return;
        _work.Writer.TryWrite(new Work(default, "", PresenceStatus.Offline, lapsed, node));
    }

    private readonly HashSet<int> _reapsQueued = [];

    private static readonly IReadOnlySet<uint> EmptySet = new HashSet<uint>();

    // Failed reap attempts in a row per number, for the retry's backoff (touched by the worker only).
    private readonly Dictionary<int, int> _reapFailures = [];

    /// <summary>First retry of a failed reap after this, doubling up to <see cref="ReapRetryMax"/>: a second is one
    /// liveness tick (the other nodes retry at theirs too, the reap's flag tells them); 30 s is the safety-net sweep's period.</summary>
    private static readonly TimeSpan ReapRetryFirst = TimeSpan.FromSeconds(1), ReapRetryMax = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Redis lost its data (the device registry had to be written again): every device of this node goes into the table
    /// again. Where friends were not told of anything this changes nothing they see; a user the table had lost comes back
    /// "online" and the friends get that once.
    /// </summary>
    public void RestoreDevices() => _work.Writer.TryWrite(new Work(default, "", PresenceStatus.Offline, false, RestoreAll));

    // Work.ReapNode of a restore of every device here.
    private const int RestoreAll = -2;

    /// <param name="StillHere">A device's offline step that leaves the device held by a newer session here; for a reap,
    /// whether its lease was just seen to go.</param>
    /// <param name="ReapNode">-1 for a device's step, <see cref="RestoreAll"/> for a restore; otherwise the node whose
    /// devices are reaped.</param>
    private readonly record struct Work(PresenceTracker.Change Change, string ClientId, PresenceStatus Status, bool StillHere, int ReapNode);

    private async Task RunAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            if (work.ReapNode >= 0)
            {
                await ReapAsync(work.ReapNode, work.StillHere);
                continue;
            }
            if (work.ReapNode == RestoreAll)
            {
                await RestoreAsync();
                continue;
            }
            var change = work.Change;
            try
            {
                var seen = await ClusterChangeAsync(work);
                if (seen.Before != seen.After) await TellFriendsAsync(change.UserId, seen.After, change.LastSeen);
            }
            catch (Exception e)
            {
                // A backend outage must not stop presence: pushes resume with the next change.
                LogFanOutFailed(_logger, change.UserId, e.Message);
            }
            ForgetIfGone(change.UserId);
        }
    }

    /// <summary>
    /// What friends see change over all nodes: the table's answer. Without a table (one node) or when Redis fails, this
    /// node's own view, so a Redis outage costs cross-node accuracy, not presence itself.
    /// </summary>
    private async Task<ClusterChange> ClusterChangeAsync(Work work)
    {
        var local = new ClusterChange(work.Change.UserId, work.Change.Before, work.Change.After);
        if (_directory is null) return local;
        if (work.StillHere) return new ClusterChange(local.UserId, local.After, local.After);
        try
        {
            return await _directory.SetDeviceAsync(local.UserId, work.ClientId, work.Status, CancellationToken.None);
        }
        catch (Exception e)
        {
            LogDirectoryFailed(_logger, local.UserId, e.Message);
            return local;
        }
    }

    private async Task ReapAsync(int node, bool lapsed)
    {
        lock (_reapsQueued) _reapsQueued.Remove(node);
        if (_directory is null) return;
        int changed;
        try
        {
            changed = await _directory.ReapNodeAsync(node, TellReapedAsync, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Retried here with a backoff, and by every node's liveness tick while the reap's flag stands; the changes not
            // yet told stay recorded in Redis, so the retry tells them (docs/cluster.md, "Node death").
            int failures = _reapFailures[node] = _reapFailures.GetValueOrDefault(node) + 1;
            var delay = TimeSpan.FromTicks(Math.Min(ReapRetryMax.Ticks, ReapRetryFirst.Ticks << Math.Min(failures - 1, 5)));
            if (failures == 1) LogReapFailed(_logger, node, delay.TotalSeconds, e.Message);
            _ = RetryReapAsync(node, delay);
            return;
        }
        _reapFailures.Remove(node);
        if (lapsed || changed > 0) LogReaped(_logger, node, changed);
    }

    private async Task RetryReapAsync(int node, TimeSpan delay)
    {
        await Task.Delay(delay, _time);
        ReapNode(node, lapsed: false);
    }

    /// <summary>
    /// One round of a reap's changes: last_seen in one statement per 1,000 users (they all went at the reap), their friend
    /// and block sets in one batch each, then the pushes. A failure of those reads or writes fails the round, so the reap is
    /// retried and tells it again (docs/cluster.md, "Node death"); pushes are droppable (clients re-read the list).
    /// </summary>
    private async Task TellReapedAsync(IReadOnlyList<ClusterChange> changes)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _lastSeen.SetLastSeenAsync(changes.Where(c => c.After == PresenceStatus.Offline).Select(c => c.UserId).ToList(), now,
            CancellationToken.None);
        var friends = await _friends.SetsOfAsync(changes.Select(c => c.UserId).ToList(), CancellationToken.None);
        var blocks = await _blocks.SetsOfAsync(friends.Where(f => f.Value.Count > 0).Select(f => f.Key).ToList(), CancellationToken.None);
        foreach (var change in changes)
        {
            if (friends[change.UserId] is { Count: > 0 } set)
                Push(change.UserId, change.After, now, set, blocks[change.UserId] is { Count: > 0 } b ? b.ToHashSet() : EmptySet);
            ForgetIfGone(change.UserId);
        }
    }

    private async Task RestoreAsync()
    {
        if (_directory is null) return;
        foreach (var (userId, clientId, status) in _tracker.Devices())
        {
            try
            {
                var seen = await _directory.SetDeviceAsync(userId, clientId, status, CancellationToken.None);
                if (seen.Before != seen.After) await TellFriendsAsync(userId, seen.After, _time.GetUtcNow().ToUnixTimeMilliseconds());
            }
            catch (Exception e)
            {
                // Redis failed again: the next restore (it follows every reconnect that finds the registry empty) retries.
                LogDirectoryFailed(_logger, userId, e.Message);
                return;
            }
        }
    }

    /// <summary>Frees the friend and block sets of a user with no device on this node.</summary>
    private void ForgetIfGone(uint userId)
    {
        if (_tracker.StatusOf(userId) != PresenceStatus.Offline) return;
        _friends.Forget(userId);
        _blocks.Forget(userId);
    }

    private async Task TellFriendsAsync(uint userId, PresenceStatus status, long lastSeen)
    {
        if (status == PresenceStatus.Offline) await _lastSeen.SetLastSeenAsync(userId, lastSeen, CancellationToken.None);
        var friends = await _friends.FriendsOfAsync(userId, CancellationToken.None);
        if (friends.Count == 0) return;
        var blocked = await _blocks.BlockedWithAsync(userId, CancellationToken.None);
        Push(userId, status, lastSeen, friends, blocked);
    }

    /// <summary>The `presence` push to the user's friends outside a block with them.</summary>
    private void Push(uint userId, PresenceStatus status, long lastSeen, IReadOnlyCollection<uint> friends, IReadOnlySet<uint> blocked)
    {
        var frame = Frames.CreatePush(PushNames.Presence, (userId, status, lastSeen), static (w, c) =>
        {
            w.WriteNumber("user_id"u8, c.userId);
            w.WriteString("status"u8, c.status.Name());
            w.WriteNumber("last_seen"u8, c.lastSeen);
        });
        // The whole set in one call (ClusterDelivery groups it by node); a pooled buffer, not a list.
        uint[] receivers = ArrayPool<uint>.Shared.Rent(friends.Count);
        int n = 0;
        foreach (uint friend in friends)
            if (!blocked.Contains(friend)) receivers[n++] = friend;
        _delivery.ToUsers(receivers.AsSpan(0, n), frame, droppable: true);
        ArrayPool<uint>.Shared.Return(receivers);
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _worker;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "presence of user {UserId}: friends not told or last_seen not stored: {Error}")]
    private static partial void LogFanOutFailed(ILogger logger, uint userId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "presence of user {UserId}: the cluster table did not answer (Redis), this node's view is used: {Error}")]
    private static partial void LogDirectoryFailed(ILogger logger, uint userId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "presence: the devices of node {Node} (no lease) were not all reaped, retrying in {Seconds} s (and at every node's next liveness tick): {Error}")]
    private static partial void LogReapFailed(ILogger logger, int node, double seconds, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "presence: node {Node} holds no lease: its devices reaped here, {Users} user(s) changed by it, friends told")]
    private static partial void LogReaped(ILogger logger, int node, int users);
}
