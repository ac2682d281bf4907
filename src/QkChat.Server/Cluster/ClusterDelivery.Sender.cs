using System.Buffers;
using Microsoft.Extensions.Logging;
using QkChat.Core.Messaging;
using StackExchange.Redis;
using ZLogger;

namespace QkChat.Server.Cluster;

/// <summary>
/// The route sender: one task that takes the queued cross-node work in rounds. A round reads the routes it lacks and
/// writes the registry changes, all pipelined, then publishes one batch per target node (several when a batch passes
/// <see cref="RouteWire.MaxBatchBytes"/>), then the change notice. The batching window is the previous round: what is
/// queued while a round is on the wire goes out together in the next, so an idle node adds no delay and a busy one
/// sends few, large publishes (docs/cluster.md, "Batching").
/// </summary>
public sealed partial class ClusterDelivery
{
    // At most this many items per round: a round's batches stay a few MB, and a Redis stall holds no more than that.
    private const int MaxItemsPerRound = 4096;

    // Users named in one deliver record (its count is 16 bits); a larger fan-out to one node takes several records.
    private const int MaxUsersPerRecord = 4096;

    // Users named in one change notice: 64 KB of ids.
    private const int MaxUsersPerNotice = 16_384;

    private async Task SendLoopAsync()
    {
        var round = new List<Work>(MaxItemsPerRound);
        var reader = _work.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                while (round.Count < MaxItemsPerRound && reader.TryRead(out var work)) round.Add(work);
                try
                {
                    await RunRoundAsync(round);
                }
                catch (Exception e)
                {
                    // Redis down or slow: the round's pushes are lost (at-most-once) and the next round tries again.
                    Stats.AddFailedRound();
                    if (Stats.FailedRounds == 1 || Stats.FailedRounds % 100 == 0) LogRoundFailed(_logger, round.Count, Stats.FailedRounds, e.Message);
                }
                finally
                {
                    foreach (var work in round)
                    {
                        work.Frame?.Release();
                        // A login waits for its round's registry write and notices, done or failed (Attach retries).
                        work.Claim?.Done.TrySetResult();
                    }
                    round.Clear();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunRoundAsync(List<Work> round)
    {
        // 1. Every Redis read and registry write of the round, sent together.
        var reads = new Dictionary<uint, Task<Route>>();
        // The cached routes this round uses, taken now: a change notice or the ticker's sweep may remove a cache entry
        // while the round awaits Redis, and a delivery must not then find no route and be skipped (a lost push:
        // CrossNodeTrafficMetricsTests lost one once in a loaded CI run; RouteCacheRaceTests provokes it).
        var cachedRoutes = new Dictionary<uint, Route>();
        var takes = new Dictionary<Work, Task<(int Node, string? Session)?>>(ReferenceEqualityComparer.Instance);
        var kicks = new Dictionary<Work, Task<int?>>(ReferenceEqualityComparer.Instance);
        var writes = new List<Task>();
        var reconcile = new HashSet<uint>();
        string? restore = null;
        long now = Environment.TickCount64;
        foreach (var work in round)
        {
            uint user = work.Users[0];
            switch (work.Kind)
            {
                case WorkKind.Deliver:
                    foreach (uint u in work.Users)
                    {
                        if (reads.ContainsKey(u) || cachedRoutes.ContainsKey(u)) continue;
                        if (_cache.TryGetValue(u, out var cached) && !cached.Pending && cached.ExpiresAt >= now)
                        {
                            cachedRoutes[u] = cached;
                            continue;
                        }
                        var pending = Route.NewPending();
                        _cache[u] = pending;
                        reads[u] = ReadRouteAsync(u, pending);
                    }
                    break;
                case WorkKind.Register:
                    takes[work] = _registry.TakeAsync(user, work.ClientId!, Node, work.Session!);
                    break;
                case WorkKind.Unregister:
                    writes.Add(_registry.ForgetSessionAsync(user, work.ClientId!, Node, work.Session!));
                    break;
                case WorkKind.Kick:
                    kicks[work] = _registry.NodeOfAsync(user, work.ClientId!);
                    break;
                case WorkKind.Reconcile:
                    reconcile.Add(user);
                    break;
                case WorkKind.Restore:
                    // Several reasons in one round: one restore names them all.
                    restore = restore is null ? work.Reason : restore.Contains(work.Reason!, StringComparison.Ordinal) ? restore : restore + "; " + work.Reason;
                    break;
            }
        }
        var changed = new List<uint>();
        if (restore is not null) changed.AddRange(await RestoreAsync(restore));
        foreach (uint user in reconcile) writes.Add(ReconcileAsync(user, changed));
        await Task.WhenAll(reads.Values);
        await Task.WhenAll(takes.Values);
        foreach (var work in takes.Keys)
            if (work.Claim is { } claim) claim.Taken = true;
        await Task.WhenAll(kicks.Values);
        await Task.WhenAll(writes);

        // 2. Nodes named by the registry that the last liveness read called dead may have come up since: ask once.
        var live = await ConfirmLivenessAsync(reads.Values.SelectMany(r => r.Result.Remote.Select(d => d.Node))
            .Concat(takes.Values.Select(t => t.Result?.Node ?? Node)).Concat(kicks.Values.Select(k => k.Result ?? Node)));
        ForgetDeadEntries(reads, live);

        // 3. One batch per target node, records in queue order, each body written once per node that needs it.
        var batches = _roundBatches ??= new RouteBatches(Node);
        batches.Begin();
        var perNode = new Dictionary<int, List<uint>>();
        foreach (var work in round)
        {
            uint user = work.Users[0];
            switch (work.Kind)
            {
                case WorkKind.Deliver:
                    AddDeliveries(work, reads, cachedRoutes, live, perNode, batches);
                    break;
                case WorkKind.Register:
                    changed.Add(user);
                    // The session this login replaced, kicked on its node only if it still holds the device there.
                    if (takes[work].Result is { } old && old.Node != Node && live[old.Node])
                    {
                        if (old.Session is null) AddKick(batches, old.Node, user, work.ClientId!, "same_device");
                        else AddTakeOver(batches, old.Node, user, work.ClientId!, old.Session, work.Device);
                    }
                    break;
                case WorkKind.Unregister:
                    changed.Add(user);
                    break;
                case WorkKind.Kick:
                    if (kicks[work].Result is int holder && holder != Node && live[holder])
                        AddKick(batches, holder, user, work.ClientId!, work.Reason!);
                    break;
            }
        }

        // 4. Publish, all pipelined; each node's batches leave in order on one connection.
        var subscriber = _redis.GetSubscriber();
        var publishes = new List<Task<long>>();
        foreach (var (node, bytes) in batches.Sealed())
            publishes.Add(subscriber.PublishAsync(NodeChannel(node), bytes));
        Stats.AddBatches(publishes.Count);
        for (int i = 0; i < changed.Count; i += MaxUsersPerNotice)
            publishes.Add(subscriber.PublishAsync(ChangedChannel, RouteWire.Changed(Node, changed.GetRange(i, Math.Min(MaxUsersPerNotice, changed.Count - i)))));
        try
        {
            await Task.WhenAll(publishes);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Stats.AddPublishFailures(publishes.Count(p => p.IsFaulted));
            // A publish that timed out may still sit in StackExchange.Redis's backlog, pointing at its buffer: those
            // buffers are never written again.
            batches.Abandon();
            throw;
        }
        batches.Recycle();
    }

    private async Task<Route> ReadRouteAsync(uint user, Route pending)
    {
        var devices = await _registry.DevicesAsync(user);
        var route = new Route(devices.Where(d => d.Node != Node).Select(d => (d.ClientId, d.Node)).ToArray(), Environment.TickCount64 + CacheTtlMs);
        // A change notice that came meanwhile removed the pending entry: this read may predate it, so it is used for
        // this round only and not kept.
        _cache.TryUpdate(user, route, pending);
        return route;
    }

    /// <summary>The liveness table, with the nodes in <paramref name="named"/> it calls dead asked again.</summary>
    private async Task<bool[]> ConfirmLivenessAsync(IEnumerable<int> named)
    {
        var live = _live;
        var suspects = named.Where(n => n != Node && !live[n]).Distinct().ToList();
        if (suspects.Count == 0) return live;
        var db = _redis.GetDatabase();
        var checks = suspects.Select(n => db.KeyExistsAsync(NodeLease.Key(n))).ToList();
        await Task.WhenAll(checks);
        if (!checks.Any(c => c.Result)) return live;
        var updated = (bool[])live.Clone();
        for (int i = 0; i < suspects.Count; i++) updated[suspects[i]] = checks[i].Result;
        Interlocked.Increment(ref _liveVersion);
        _live = updated;
        return updated;
    }

    /// <summary>Entries of nodes without a lease: ignored, and deleted here (only while they still name that node).</summary>
    private void ForgetDeadEntries(Dictionary<uint, Task<Route>> reads, bool[] live)
    {
        foreach (var (user, read) in reads)
            foreach (var (clientId, node) in read.Result.Remote)
            {
                if (live[node]) continue;
                Stats.AddCleaned();
                _ = QuietlyAsync(_registry.ForgetNodeAsync(user, clientId, node));
            }
    }

    /// <summary>A cleaning write nobody waits for: a failure leaves the entry for the next reader to clean.</summary>
    private static async Task QuietlyAsync(Task write)
    {
        try
        {
            await write;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
        }
    }

    private void AddDeliveries(Work work, Dictionary<uint, Task<Route>> reads, Dictionary<uint, Route> cachedRoutes, bool[] live,
        Dictionary<int, List<uint>> perNode, RouteBatches batches)
    {
        foreach (var list in perNode.Values) list.Clear();
        foreach (uint user in work.Users)
        {
            // Every user of a Deliver item was either read this round or found in the cache at its start.
            Route route = reads.TryGetValue(user, out var read) ? read.Result : cachedRoutes[user];
            foreach (var (_, node) in route.Remote)
            {
                if (!live[node]) continue;
                if (!perNode.TryGetValue(node, out var users)) perNode[node] = users = [];
                // One record names a user once, however many of their devices that node holds.
                if (users.Count == 0 || users[^1] != user) users.Add(user);
            }
        }
        var body = work.Frame!.Memory.Span;
        if (work.Group is { } at)
        {
            // One record per node with all its users: the receiving node orders the group's pushes by seq.
            foreach (var (node, users) in perNode)
            {
                if (users.Count == 0) continue;
                RouteWire.WriteGroup(batches.For(node), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(users), body, at.GroupId, at.Seq, at.Follows);
                batches.SealIfFull(node);
                Stats.AddFramePublished();
            }
            return;
        }
        foreach (var (node, users) in perNode)
            for (int i = 0; i < users.Count; i += MaxUsersPerRecord)
            {
                var chunk = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(users).Slice(i, Math.Min(MaxUsersPerRecord, users.Count - i));
                RouteWire.WriteDeliver(batches.For(node), chunk, body, work.Droppable, work.MessageId);
                batches.SealIfFull(node);
                Stats.AddFramePublished();
            }
    }

    private void AddTakeOver(RouteBatches batches, int node, uint user, string clientId, string session, string? device)
    {
        RouteWire.WriteTakeOver(batches.For(node), user, clientId, session, device);
        batches.SealIfFull(node);
        Stats.AddKickSent();
    }

    private void AddKick(RouteBatches batches, int node, uint user, string clientId, string reason)
    {
        RouteWire.WriteKick(batches.For(node), user, clientId, reason);
        batches.SealIfFull(node);
        Stats.AddKickSent();
    }

    /// <summary>Raised on the route sender after this node's devices had to be written into the registry again (Redis
    /// lost them): the presence table lost them too. The handler queues its work and returns.</summary>
    public event Action? DevicesRestored;

    /// <summary>
    /// Writes this node's devices into the registry again where nobody holds them (Redis restarted without its data, the
    /// lease key vanished, or the periodic check: <paramref name="reason"/>); the lease first, so that no node cleans them
    /// as a dead node's. Returns the users written.
    /// </summary>
    private async Task<List<uint>> RestoreAsync(string reason)
    {
        if (_lease is not null) await _lease.RenewOnceAsync();
        var devices = new List<(uint UserId, string ClientId, string Session)>();
        foreach (var (user, clientId) in Live.Devices())
            if (Live.Find(user, clientId) is { } connection) devices.Add((user, clientId, SessionOf(connection)));
        if (devices.Count == 0) return [];
        var batch = _redis.GetDatabase().CreateBatch();
        var sets = devices.Select(d => _registry.RestoreAsync(batch, d.UserId, d.ClientId, Node, d.Session)).ToList();
        batch.Execute();
        await Task.WhenAll(sets);
        var written = new List<uint>();
        for (int i = 0; i < sets.Count; i++)
            if (sets[i].Result) written.Add(devices[i].UserId);
        if (written.Count > 0)
        {
            Stats.AddRestored(written.Count);
            LogRestored(_logger, written.Count, devices.Count, reason);
            // Redis lost its data: the presence table too (docs/cluster.md, "Presence").
            try
            {
                DevicesRestored?.Invoke();
            }
            catch (Exception e)
            {
                LogHandlerFailed(_logger, Node, e.Message);
            }
        }
        return written;
    }

    /// <summary>A frame came for a user with no device here: the registry names this node by mistake (a crashed earlier
    /// process with this number, or a detach whose delete was lost). Deletes those entries.</summary>
    private async Task ReconcileAsync(uint user, List<uint> changed)
    {
        bool any = false;
        foreach (var (clientId, node, session) in await _registry.DevicesAsync(user))
        {
            if (node != Node) continue;
            var connection = Live.Find(user, clientId);
            if (session is null)
            {
                if (connection is not null) continue;
                await _registry.ForgetNodeAsync(user, clientId, Node);
            }
            else
            {
                // The live session's own entry stays, and so does a login's between its claim and its attach.
                if ((connection is not null && SessionOf(connection) == session) || _claims.ContainsKey(session)) continue;
                await _registry.ForgetSessionAsync(user, clientId, Node, session);
            }
            Stats.AddCleaned();
            any = true;
        }
        if (any)
            lock (changed) changed.Add(user);
    }

    // The route sender's batch buffers, kept across rounds.
    private RouteBatches? _roundBatches;

    [ZLoggerMessage(LogLevel.Warning, "cross-node routing: a round of {items} item(s) failed (Redis), its pushes are lost, the next round retries ({failed} failed rounds so far): {error}")]
    private static partial void LogRoundFailed(ILogger logger, int items, long failed, string error);

    [ZLoggerMessage(LogLevel.Information, "cross-node routing: {written} of {devices} device(s) of this node written into the registry again ({reason})")]
    private static partial void LogRestored(ILogger logger, int written, int devices, string reason);
}
