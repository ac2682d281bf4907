using Microsoft.Extensions.Logging;
using MySqlConnector;
using QkChat.Core.Accounts;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Core.Files;
using QkChat.Core.Friends;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Presence;
using QkChat.Core.Routing;
using QkChat.Server.Accounts;
using QkChat.Server.Admin;
using QkChat.Server.Audit;
using QkChat.Server.Cluster;
using QkChat.Server.Files;
using QkChat.Server.Friends;
using QkChat.Server.Groups;
using QkChat.Server.Messaging;
using QkChat.Server.Presence;
using StackExchange.Redis;

namespace QkChat.Server.Hosting;

/// <summary>
/// The chat features and their adapters, wired together once: the server composes them from its configuration,
/// integration tests from theirs, so both run the same wiring.
/// </summary>
public sealed partial class ChatFeatures : IAsyncDisposable, IMonitoredFeatures
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;

    public ChatFeatures(AccountOptions accountOptions, MessagingOptions messagingOptions, string nodeName, MySqlDataSource db,
        IConnectionMultiplexer redis, IMailer mailer, PasswordWorkPool passwords, ILoggerFactory loggers,
        AuditOptions? auditOptions = null, LoginLimits? loginLimits = null, MySqlDataSource? writerDb = null,
        TimeProvider? messageClock = null, GroupOptions? groupOptions = null, NodeIdPermit? idPermit = null, NodeLease? lease = null,
        FileTransferOptions? fileOptions = null, TimeProvider? fileClock = null)
    {
        _logger = loggers.CreateLogger("Messaging");
        // The audit log first: every feature records through it (docs/audit.md).
        var auditStore = new MySqlAuditStore(db);
        AuditOptions = auditOptions ?? new AuditOptions();
        Audit = new AuditBatcher(AuditOptions, auditStore, loggers.CreateLogger("Audit"));
        AuditRetention = new AuditRetention(auditStore, AuditOptions, loggers.CreateLogger("Audit"));
        SecurityEvents = new SecurityEventService(auditStore, loggers.CreateLogger("Audit"));
        Live = new LiveSessions();
        var local = new LocalDelivery(Live);
        // With a lease (every qkchatd) devices on other nodes are reached through Redis; tests without one stay local.
        if (lease is not null)
            Routing = new ClusterDelivery(local, redis, lease.NodeId, lease, loggers.CreateLogger("Cluster"), Audit,
                (groupOptions ?? new GroupOptions()).OrderHoldMs);
        Delivery = (IDelivery?)Routing ?? local;
        Presence = new PresenceTracker();
        var friendStore = new MySqlFriendStore(db);
        FriendSets = new FriendSetCache(friendStore);
        Blocks = new BlockSetCache(friendStore);
        Accounts = new AccountService(accountOptions, new MySqlUserStore(db), new SessionStore(db, redis, accountOptions),
            new RedisVerificationCodes(redis, accountOptions), new RedisLoginThrottle(redis, loginLimits), mailer, passwords, Delivery,
            loggers.CreateLogger("Accounts"), Audit);
        Availability = new AvailabilityService(new MySqlUserStore(db), new RedisPerMinuteBudget(redis, RedisPerMinuteBudget.AvailabilityPrefix),
            loggers.CreateLogger("Accounts"));
        // block_user/unblock_user record through the audit log.
        Friends = new FriendService(friendStore, Delivery, Presence, Blocks, Audit, loggers.CreateLogger("Friends"),
            searchBudget: new RedisPerMinuteBudget(redis, RedisPerMinuteBudget.SearchPrefix)) { FriendSets = FriendSets };
        // The deployment's presence table needs a node number; in-process tests without a lease keep this node's view.
        if (lease is not null) Presence.Directory = new RedisPresenceDirectory(redis, lease.NodeId, lease.Incarnation);
        PresenceUpdates = new PresenceService(Presence, FriendSets, Blocks, Delivery, new MySqlLastSeenStore(db), Presence.Directory,
            loggers.CreateLogger("Presence"));
        Messaging = new MessagingService(messagingOptions, new MySqlMessageStore(db), FriendSets, Blocks, Delivery, Presence,
            loggers.CreateLogger("Messaging"), messageClock, writeStore: writerDb is null ? null : new MySqlMessageStore(writerDb), idPermit: idPermit);
        // Group entries share the messages' id minter, batch settings and writers' pool.
        Groups = new GroupService(groupOptions ?? new GroupOptions(), messagingOptions, new MySqlGroupStore(db), Messaging.Ids, FriendSets, Delivery,
            Presence, loggers.CreateLogger("Groups"), messageClock, writeStore: writerDb is null ? null : new MySqlGroupStore(writerDb));
        Messaging.GroupChats = Groups;
        // Files: bytes in the local store, metadata in MariaDB; uploads and downloads go over the public HTTP listener.
        FileSettings = fileOptions ?? new FileTransferOptions();
        FileStore = new LocalFileStore(FileSettings.Dir);
        var fileCatalog = new MySqlFileCatalog(db);
        FileCatalog = fileCatalog;
        var tokens = new SignedTokens(FileSettings.Secret);
        FileStats = new FileTransferStats();
        Uploads = new FileUploads(FileSettings, FileStore, fileCatalog, tokens, loggers.CreateLogger("Files"), fileClock, FileStats);
        Files = new FileService(FileSettings, fileCatalog, FileStore, tokens, loggers.CreateLogger("Files"), fileClock, FileStats, Uploads);
        Downloads = new FileDownloads(fileCatalog, FileStore, tokens, loggers.CreateLogger("Files"), fileClock);
        FileSweeper = new FileSweeper(FileStore, fileCatalog, loggers.CreateLogger("Files"), fileClock, Uploads);
        Messaging.Files = fileCatalog;
        Groups.Files = fileCatalog;
        if (Routing is not null)
        {
            // A gap in a group's pushes is read back from the group timeline (docs/cluster.md, "Group order").
            Routing.Order.Gaps = Groups;
            // A node without a lease: its devices leave the presence table (docs/cluster.md, "Presence").
            Routing.NodeWithoutLease += PresenceUpdates.ReapNode;
            Routing.DevicesRestored += PresenceUpdates.RestoreDevices;
            CacheNotices = new CacheNoticeChannel(redis, lease!.NodeId, FriendSets, Blocks, Groups.Members, loggers.CreateLogger("Cluster"));
            // The id-paged reads wait for what the other live nodes have in flight, not only this node (docs/cluster.md
            // "Read marks"). The deployment is the database the nodes write.
            var dbName = new MySqlConnectionStringBuilder(db.ConnectionString);
            ReadMarks = new ReadMarkPublisher(redis, lease, ReadMarkPublisher.DeploymentOf(dbName.Server, dbName.Port, dbName.Database),
                Messaging.Writer.ReadMark, Routing, loggers.CreateLogger("Cluster"));
            Messaging.ClusterMarks = ReadMarks.Marks;
        }
    }

    public AuditOptions AuditOptions { get; }
    public AuditBatcher Audit { get; }
    public AuditRetention AuditRetention { get; }
    public SecurityEventService SecurityEvents { get; }
    public LiveSessions Live { get; }

    /// <summary>How every feature reaches users' devices: <see cref="Routing"/> when this node has a lease, else the
    /// local port over <see cref="Live"/>.</summary>
    public IDelivery Delivery { get; }

    /// <summary>Tells the other nodes which cached friendships, blocks and group memberships changed (docs/cluster.md,
    /// "Caches"); null without a lease.</summary>
    public CacheNoticeChannel? CacheNotices { get; }

    /// <summary>Publishes this node's read mark and reads the other nodes' (docs/cluster.md "Read marks"); null without a
    /// lease.</summary>
    public ReadMarkPublisher? ReadMarks { get; }

    /// <summary>Cross-node delivery through Redis (docs/cluster.md, "Routing"); null without a lease.</summary>
    public ClusterDelivery? Routing { get; }

    RouteStats? IMonitoredFeatures.Routes => Routing?.Stats;
    public PresenceTracker Presence { get; }
    public FriendSetCache FriendSets { get; }

    /// <summary>Who is in a block with whom, for the users active here (send_message's fast path, presence).</summary>
    public BlockSetCache Blocks { get; }

    /// <summary>check_username / check_email; the server sets ChecksPerMinute from account.availability_checks_per_min.</summary>
    public AvailabilityService Availability { get; }
    public AccountService Accounts { get; }
    public FriendService Friends { get; }
    public PresenceService PresenceUpdates { get; }
    public MessagingService Messaging { get; }
    public GroupService Groups { get; }
    public FileTransferOptions FileSettings { get; }
    public LocalFileStore FileStore { get; }
    public IFileCatalog FileCatalog { get; }

    /// <summary>file_upload_init and get_file_url on the chat connection.</summary>
    public FileService Files { get; }

    /// <summary>Upload and download counters (/metrics).</summary>
    public FileTransferStats FileStats { get; }

    /// <summary>The tus upload logic the public HTTP listener serves (docs/files.md).</summary>
    public FileUploads Uploads { get; }

    /// <summary>Signed downloads the public HTTP listener serves.</summary>
    public FileDownloads Downloads { get; }

    /// <summary>Expires unfinished uploads and unreferenced files (started by <see cref="StartAsync"/>).</summary>
    public FileSweeper FileSweeper { get; }

    /// <summary>What must happen before the first request: message ids start above the stored messages' and group entries'.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (CacheNotices is not null) await CacheNotices.StartAsync();
        if (Routing is not null) await Routing.StartAsync();
        await Messaging.StartAsync(ct);
        // Published before the first send can mint an id (ReadMarkPublisher.StartAsync says why).
        if (ReadMarks is not null) await ReadMarks.StartAsync();
        await Groups.StartAsync(ct);
        FileSweeper.Start();
    }

    public void Register(ActionRouter router, Dispatcher dispatcher)
    {
        Audit.RecordForcedCloses(dispatcher);
        SecurityEvents.Register(router);
        Accounts.Register(router, dispatcher);
        Availability.Register(router);
        Friends.Register(router, dispatcher);
        PresenceUpdates.Register(router, dispatcher);
        Messaging.Register(router, dispatcher);
        Groups.Register(router);
        Files.Register(router);
    }

    /// <summary>After the connections closed: store what is queued, then stop the presence worker.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // The detaches of the closed connections leave the registry first.
        if (Routing is not null) await Routing.DisposeAsync();
        if (CacheNotices is not null) await CacheNotices.DisposeAsync();
        await Messaging.DisposeAsync();
        // After the message writers drained: nothing of this node is in flight, so its word may leave at once.
        if (ReadMarks is not null) await ReadMarks.DisposeAsync();
        await Groups.DisposeAsync();
        await FileSweeper.DisposeAsync();
        await PresenceUpdates.DisposeAsync();
        // Last: the closes of the connections and anything the writers above recorded are stored too.
        await AuditRetention.DisposeAsync();
        await Audit.DisposeAsync();
        LogWriters(_logger, Messaging.Writer.Written, Messaging.Writer.Batches, Messaging.Writer.LargestBatch,
            Messaging.Acks.Written, Messaging.Acks.Batches, Messaging.Acks.LargestBatch,
            Groups.Writers.Written, Groups.Writers.Batches, Groups.Writers.LargestBatch);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "stored since start: {Messages} message(s) in {MessageBatches} batch(es), largest {LargestMessageBatch}; " +
        "{Acks} ack(s) in {AckBatches} batch(es), largest {LargestAckBatch}; {GroupEntries} group entr(ies) in {GroupBatches} batch(es), largest {LargestGroupBatch}")]
    private static partial void LogWriters(ILogger logger, long messages, long messageBatches, int largestMessageBatch, long acks, long ackBatches, int largestAckBatch,
        long groupEntries, long groupBatches, int largestGroupBatch);
}
