using System.Diagnostics;
using System.Diagnostics.Metrics;
using QkChat.Core.Accounts;
using QkChat.Core.Dispatch;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;
using QkChat.Transport;
using StackExchange.Redis;

namespace QkChat.Server.Admin;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics), all observable: the hot path only bumps plain counters
/// that each reactor or worker owns (ReactorStats, the batchers' totals), and they are summed here when a reader
/// (the /metrics endpoint, dotnet-counters) asks. Nothing on the request path allocates or takes a lock for metrics.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "QkChat.Server";

    private readonly Meter _meter = new(MeterName);

    /// <summary>This server's meter (the exporter listens to this object, not to every meter of the name).</summary>
    public Meter Meter => _meter;
    private readonly TransportEngine _engine;
    private readonly Process _process = Process.GetCurrentProcess();

    public ServerMetrics(TransportEngine engine, LiveSessions live, MessagingService messaging, PasswordWorkPool passwords,
        IConnectionMultiplexer redis, Func<long>? mailPending = null, RequestMetrics? requests = null,
        IReadOnlyList<(string Name, LatencyHistogram Times)>? batchers = null, QkChat.Server.Cluster.NodeLease? lease = null,
        QkChat.Server.Cluster.RouteStats? routes = null, GroupService? groups = null,
        QkChat.Core.Files.FileTransferStats? files = null)
    {
        _engine = engine;
        _meter.CreateObservableGauge("qkchat.connections", () => PerReactorAndListener(s => s.OpenConnections, s => s.OpenTlsConnections,
            s => s.OpenWebSocketConnections), "{connection}", "Open connections per reactor and listener (plain, tls, ws: the web listener's WebSockets)");
        _meter.CreateObservableCounter("qkchat.accepted", () => PerReactorAndListener(s => s.Accepted, s => s.AcceptedTls, s => s.AcceptedWebSocket), "{connection}",
            "Connections accepted per reactor and listener");
        _meter.CreateObservableCounter("qkchat.tls.handshake_failures", () => engine.TlsHandshakeFailures, "{handshake}",
            "TLS handshakes that failed or timed out (never reached a reactor)");
        _meter.CreateObservableCounter("qkchat.closed", ClosedByReason, "{connection}", "Connections closed, by reason");
        _meter.CreateObservableCounter("qkchat.bytes.in", () => PerReactor(s => s.BytesIn), "By", "Bytes received");
        _meter.CreateObservableCounter("qkchat.bytes.out", () => PerReactor(s => s.BytesOut), "By", "Bytes sent");
        _meter.CreateObservableCounter("qkchat.sends", () => PerReactor(s => s.Sends), "{send}", "Gathered socket sends");
        _meter.CreateObservableCounter("qkchat.send_queue.dropped", () => PerReactor(s => s.DroppedFrames), "{frame}",
            "Droppable pushes dropped above a connection's send-queue high mark");
        _meter.CreateObservableCounter("qkchat.handler.faults", () => PerReactor(s => s.HandlerFaults), "{fault}", "Handler exceptions caught by a reactor");
        _meter.CreateObservableGauge("qkchat.devices.online", () => (long)live.DeviceCount, "{device}", "Logged-in devices on this node");
        _meter.CreateObservableCounter("qkchat.messages.stored", () => messaging.Writer.Written, "{message}", "Messages stored by the write-behind batcher");
        _meter.CreateObservableCounter("qkchat.messages.batches", () => messaging.Writer.Batches, "{batch}", "Message batches committed");
        _meter.CreateObservableGauge("qkchat.messages.queued", () => (long)messaging.Writer.Queued, "{message}", "Messages waiting to be stored");
        _meter.CreateObservableCounter("qkchat.messages.failed", () => messaging.Writer.Failed, "{message}",
            "Messages whose batch was not stored (answered UNAVAILABLE or INTERNAL)");
        // The message writers' pipeline (docs/messaging.md "Order and catch-up"): batches stored at once (at most
        // message.writers) and the watermark's lag, messages minted and not yet released (the id-paged reads stop below
        // the oldest of them).
        _meter.CreateObservableGauge("qkchat.messages.batches_in_flight", () => (long)messaging.Writer.BatchesInFlight, "{batch}",
            "Message batches being stored or waiting for an earlier batch's release (at most message.writers)");
        _meter.CreateObservableGauge("qkchat.messages.unreleased", () => messaging.Writer.Unreleased, "{message}",
            "Messages minted and not yet released (queued, being stored, or stored and waiting for an earlier batch): the watermark's lag");
        _meter.CreateObservableCounter("qkchat.messages.retries_joined", () => messaging.Writer.RetriesJoined, "{message}",
            "Retries (same sender and client_msg_id) answered with the outcome of the same send still in flight");
        if (groups is not null) AddGroups(groups);
        if (files is not null) AddFiles(files);
        _meter.CreateObservableCounter("qkchat.acks.stored", () => messaging.Acks.Written, "{ack}",
            "Message ids acknowledged by their receivers and stored: messages delivered");
        _meter.CreateObservableCounter("qkchat.messages.queued_offline", () => messaging.Counters.QueuedOffline, "{message}",
            "Messages stored while their receiver had no device online");
        _meter.CreateObservableCounter("qkchat.messages.offline_pushed", () => messaging.Counters.OfflinePushed, "{message}",
            "Messages pushed in offline batches at login");
        _meter.CreateObservableCounter("qkchat.messages.read", () => messaging.Counters.Read, "{message}", "Messages marked read");
        _meter.CreateObservableCounter("qkchat.frames.out", () => PerReactor(s => s.FramesOut), "{frame}",
            "Frames queued for sending (responses and pushes); frames in are qkchat_requests_total");
        _meter.CreateObservableCounter("qkchat.acks.batches", () => messaging.Acks.Batches, "{batch}", "Ack batches committed");
        _meter.CreateObservableGauge("qkchat.password.queue", () => (long)passwords.Depth, "{hash}", "Password hashes waiting for a worker");
        _meter.CreateObservableCounter("qkchat.password.hashes", () => passwords.Completed, "{hash}", "Password hashes and verifications done");
        // The node's number in message ids (docs/cluster.md): with server.node_id=auto it can change across restarts.
        _meter.CreateObservableGauge("qkchat.node.id", () => (long)messaging.Ids.Node, null, "This node's number (0-15), leased in Redis");
        if (lease is not null)
        {
            _meter.CreateObservableGauge("qkchat.node.lease.valid", () => lease.Permit.IsOpen ? 1L : 0L, null,
                "1 while the node-id lease is confirmed and ids may be minted; 0: sends answer UNAVAILABLE");
            _meter.CreateObservableCounter("qkchat.node.lease.renewal_failures", () => lease.RenewalFailures, "{renewal}",
                "Node-id lease renewals Redis did not answer");
            _meter.CreateObservableCounter("qkchat.node.lease.retaken", () => lease.Retaken, "{lease}",
                "Times the lease key had vanished from Redis (restart without data) and was taken again");
        }
        if (routes is not null) AddRouteInstruments(routes);
        _meter.CreateObservableGauge("qkchat.redis.connected", () => redis.IsConnected ? 1L : 0L, null, "1 while the Redis connection is up");
        if (mailPending is not null)
            _meter.CreateObservableGauge("qkchat.mail.pending", mailPending, "{mail}", "Mails queued, retrying or being sent");
        _meter.CreateObservableGauge("qkchat.memory.working_set", () => { _process.Refresh(); return _process.WorkingSet64; }, "By", "Resident memory");
        _meter.CreateObservableGauge("qkchat.memory.gc_heap", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "Managed heap size after the last GC");
        _meter.CreateObservableCounter("qkchat.gc.collections", GcCollections, "{collection}", "Garbage collections by generation");
        _meter.CreateObservableCounter("qkchat.cpu.time", () => _process.TotalProcessorTime.TotalSeconds, "s", "CPU time used by the process");
        if (requests is not null)
            _meter.CreateObservableCounter("qkchat.requests", () => RequestCounts(requests), "{request}",
                "Requests answered, by action and result code (action=\"(rejected)\": answered before reaching a handler)");
        if (batchers is not null)
            _meter.CreateObservableGauge("qkchat.batch.commit.max", () => batchers.Select(b =>
                new Measurement<double>(b.Times.MaxSeconds, new KeyValuePair<string, object?>("batcher", b.Name))), "s",
                "Longest write-behind batch commit since start, by batcher");
    }

    /// <summary>The group writers' figures, summed over group.writers and named like the message writer's, and the fan-out of what they stored.</summary>
    private void AddGroups(GroupService groups)
    {
        _meter.CreateObservableCounter("qkchat.group_entries.stored", () => groups.Writers.Written, "{entry}",
            "Group entries stored by the group write-behind batcher (send_group_message)");
        _meter.CreateObservableCounter("qkchat.group_entries.batches", () => groups.Writers.Batches, "{batch}", "Group entry batches committed");
        _meter.CreateObservableGauge("qkchat.group_entries.queued", () => (long)groups.Writers.Queued, "{entry}", "Group entries waiting to be stored");
        _meter.CreateObservableGauge("qkchat.group_entries.batches_in_flight", () => (long)groups.Writers.BatchesInFlight, "{batch}",
            "Group entry batches being stored, over all group writers (at most group.writers)");
        _meter.CreateObservableCounter("qkchat.group_entries.failed", () => groups.Writers.Failed, "{entry}",
            "Group entries whose batch was not stored (answered UNAVAILABLE or INTERNAL)");
        _meter.CreateObservableCounter("qkchat.group_entries.pushed", () => groups.Pushed, "{push}",
            "group_message pushes handed to members' devices (not droppable: the send-queue policy drops none)");
        _meter.CreateObservableCounter("qkchat.group_entries.unpushed", () => groups.Writers.Unpushed, "{entry}",
            "Group entries stored and answered but pushed to nobody (their members could not be read); members catch up by seq");
    }

    /// <summary>File transfer (docs/files.md): uploads begun, made, refused by reason, and the bytes each way.</summary>
    private void AddFiles(QkChat.Core.Files.FileTransferStats files)
    {
        _meter.CreateObservableCounter("qkchat.files.uploads.started", () => files.Started, "{upload}",
            "New uploads begun by file_upload_init (a resumed upload is not new)");
        _meter.CreateObservableCounter("qkchat.files.uploads.deduplicated", () => files.Deduplicated, "{upload}",
            "file_upload_init answered complete at once: the content was stored already, no bytes crossed");
        _meter.CreateObservableCounter("qkchat.files.uploads.completed", () => files.Completed, "{upload}",
            "Uploads whose last chunk arrived and whose sha256 matched: a file was made");
        _meter.CreateObservableCounter("qkchat.files.upload.failures", UploadFailures, "{request}",
            "Upload requests refused, and uploads lost, by reason (file_checksum and expired end the upload; the others refuse one request)");
        _meter.CreateObservableCounter("qkchat.files.received", () => files.BytesReceived, "By", "Bytes of upload chunks checked and made durable");
        _meter.CreateObservableCounter("qkchat.files.downloads", () => files.Downloads, "{download}",
            "GETs of signed download URLs answered with bytes (200 or 206)");
        _meter.CreateObservableCounter("qkchat.files.served", () => files.BytesServed, "By", "Bytes of files sent in download answers");

        IEnumerable<Measurement<long>> UploadFailures()
        {
            foreach (var reason in Enum.GetValues<QkChat.Core.Files.UploadFailure>())
                yield return new Measurement<long>(files.Failures(reason), new KeyValuePair<string, object?>("reason", ReasonLabel(reason)));
        }
    }

    /// <summary>ChunkChecksum -> chunk_checksum: Prometheus label values in the style of the metric names.</summary>
    private static string ReasonLabel(QkChat.Core.Files.UploadFailure reason)
    {
        string name = reason.ToString();
        var label = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) label.Append('_');
            label.Append(char.ToLowerInvariant(name[i]));
        }
        return label.ToString();
    }

    /// <summary>Only the pairs that occurred: 40 actions by 21 codes would be 840 mostly-zero lines.</summary>
    private static IEnumerable<Measurement<long>> RequestCounts(RequestMetrics requests)
    {
        foreach (var (action, code, count) in requests.Counts())
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("action", action), new KeyValuePair<string, object?>("code", code));
    }

    /// <summary>Each reactor's value split by listener: the plain one is the total minus the TLS share.</summary>
    private IEnumerable<Measurement<long>> PerReactorAndListener(Func<ReactorStats, long> total, Func<ReactorStats, long> tls,
        Func<ReactorStats, long> webSocket)
    {
        foreach (var reactor in _engine.Reactors)
        {
            var reactorTag = new KeyValuePair<string, object?>("reactor", reactor.Index);
            long all = total(reactor.Stats), secure = tls(reactor.Stats), web = webSocket(reactor.Stats);
            yield return new Measurement<long>(all - secure - web, reactorTag, new KeyValuePair<string, object?>("listener", "plain"));
            yield return new Measurement<long>(secure, reactorTag, new KeyValuePair<string, object?>("listener", "tls"));
            yield return new Measurement<long>(web, reactorTag, new KeyValuePair<string, object?>("listener", "ws"));
        }
    }

    private IEnumerable<Measurement<long>> PerReactor(Func<ReactorStats, long> read)
    {
        foreach (var reactor in _engine.Reactors)
            yield return new Measurement<long>(read(reactor.Stats), new KeyValuePair<string, object?>("reactor", reactor.Index));
    }

    private IEnumerable<Measurement<long>> ClosedByReason()
    {
        foreach (var reason in Enum.GetValues<CloseReason>())
        {
            long total = 0;
            foreach (var reactor in _engine.Reactors) total += Volatile.Read(ref reactor.Stats.ClosedByReason[(int)reason]);
            yield return new Measurement<long>(total, new KeyValuePair<string, object?>("reason", reason.ToString()));
        }
    }

    /// <summary>Cross-node routing (docs/cluster.md, "What to watch").</summary>
    private void AddRouteInstruments(QkChat.Server.Cluster.RouteStats routes)
    {
        _meter.CreateObservableCounter("qkchat.route.frames.published", () => routes.FramesPublished, "{frame}",
            "Frames published to other nodes (one per frame and target node, however many of its users it names)");
        _meter.CreateObservableCounter("qkchat.route.batches.published", () => routes.BatchesPublished, "{batch}",
            "Batches published to other nodes' channels (one PUBLISH or SPUBLISH each)");
        _meter.CreateObservableCounter("qkchat.route.publish_failures", () => routes.PublishFailures, "{batch}",
            "Publishes Redis refused or did not answer (their pushes are lost: pub/sub is at-most-once)");
        _meter.CreateObservableCounter("qkchat.route.rounds.failed", () => routes.FailedRounds, "{round}",
            "Route sender rounds that failed on Redis");
        _meter.CreateObservableCounter("qkchat.route.frames.received", () => routes.FramesReceived, "{frame}",
            "Frames received from other nodes for devices here");
        _meter.CreateObservableCounter("qkchat.route.pushes.received", () => routes.PushesReceived, "{push}",
            "Users named in the frames received from other nodes: pushes that crossed nodes through Redis");
        _meter.CreateObservableCounter("qkchat.route.batches.received", () => routes.BatchesReceived, "{batch}",
            "Batches received on this node's channel");
        _meter.CreateObservableCounter("qkchat.route.kicks.sent", () => routes.KicksSent, "{kick}",
            "Kicks sent to the node holding a device (same_device, revocations)");
        _meter.CreateObservableCounter("qkchat.route.kicks.received", () => routes.KicksReceived, "{kick}",
            "Kicks received from other nodes");
        _meter.CreateObservableCounter("qkchat.route.resubscribes", () => routes.Resubscribes, "{resubscribe}",
            "Times the pub/sub connection came back after a loss (cross-node pushes in the gap are lost)");
        _meter.CreateObservableCounter("qkchat.route.subscription.lost", () => routes.SubscriptionLostSeconds, "s",
            "Time this node's pub/sub connection was lost (Redis restarted or the link broke), summed over episodes and Redis endpoints; cross-node pushes to this node in it are lost");
        _meter.CreateObservableCounter("qkchat.route.dropped", () => routes.Dropped, "{item}",
            "Cross-node work dropped because the route sender's queue was full");
        _meter.CreateObservableCounter("qkchat.route.registry.cleaned", () => routes.Cleaned, "{entry}",
            "Registry entries deleted: their node's lease was gone, or the node did not hold the device");
        _meter.CreateObservableCounter("qkchat.route.registry.restored", () => routes.Restored, "{device}",
            "Devices of this node written into the registry again after Redis lost them");
        if (routes.GroupOrder is { } order) AddGroupOrderInstruments(order);
    }

    /// <summary>The group push order on this node (docs/cluster.md, "Group order").</summary>
    private void AddGroupOrderInstruments(GroupOrderStats order)
    {
        _meter.CreateObservableCounter("qkchat.group_order.held", () => order.Held, "{entry}",
            "Group entries that reached this node ahead of a lower seq and waited for it (group.order_hold_ms)");
        _meter.CreateObservableCounter("qkchat.group_order.gap_fills", () => order.Fills, "{gap}",
            "Gaps in a group's seqs still open after the wait, read back from MariaDB");
        _meter.CreateObservableCounter("qkchat.group_order.filled", () => order.Filled, "{entry}",
            "Group entries pushed from MariaDB into a gap (their pub/sub copy was lost or later than the wait)");
        _meter.CreateObservableCounter("qkchat.group_order.skipped", () => order.Skipped, "{seq}",
            "Missing seqs given up on without a push (MariaDB did not answer, or the gap was longer than 500): clients sync");
        _meter.CreateObservableCounter("qkchat.group_order.duplicates", () => order.Duplicates, "{entry}",
            "Group pushes dropped because their seq was pushed here already");
        _meter.CreateObservableCounter("qkchat.group_order.late", () => order.Late, "{entry}",
            "Group entries older than the seq their group's order started at here, pushed out of order");
    }

    private static IEnumerable<Measurement<long>> GcCollections()
    {
        for (int gen = 0; gen <= GC.MaxGeneration; gen++)
            yield return new Measurement<long>(GC.CollectionCount(gen), new KeyValuePair<string, object?>("generation", gen));
    }

    public void Dispose()
    {
        _meter.Dispose();
        _process.Dispose();
    }
}
