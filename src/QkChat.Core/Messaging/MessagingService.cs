using System.Text.Json;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Core.Files;
using QkChat.Core.Friends;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Messaging;

/// <summary>
/// One-to-one messages (protocol.md §5 Messages, §6): sending through the write-behind batcher, delivery to every
/// device, statuses, recall, history and catch-up, and the offline queue pushed at login. Split by concern:
/// sending (here), statuses, queries, offline delivery.
/// </summary>
public sealed partial class MessagingService : IAsyncDisposable
{
    private readonly MessagingOptions _options;
    private readonly IMessageStore _store;
    private readonly FriendSetCache _friends;
    private readonly BlockSetCache _blocks;
    private readonly IDelivery _delivery;
    private readonly IPresenceView _presence;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MessageIds _ids;

    // Messaging's state of each device (the send chain, the offline drain), made at composition (Register).
    private SessionSlot<DeviceMessaging> _devices = null!;

    public MessagingService(MessagingOptions options, IMessageStore store, FriendSetCache friends, BlockSetCache blocks, IDelivery delivery,
        IPresenceView presence, ILogger logger, TimeProvider? time = null, IMessageStore? writeStore = null, NodeIdPermit? idPermit = null)
    {
        _options = options;
        _store = store;
        _friends = friends;
        _blocks = blocks;
        _delivery = delivery;
        _presence = presence;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _ids = new MessageIds(options.NodeId, _time, idPermit);
        // The batchers may have connections of their own (writeStore): then a burst of reads (10,000 logins each
        // asking for their offline queue) cannot make every sender wait for a free connection.
        var writes = writeStore ?? store;
        Indexer = new SearchIndexer(writes, options.QueueCapacity * 10, () => Writer!.Queued, logger);
        _ = Indexer.CatchUpAsync();
        Writer = new MessageWriter(writes, options, Indexer, logger);
        Acks = new AckWriter(writes, options, logger);
    }

    public MessageWriter Writer { get; }

    /// <summary>The answer to a send while the node's id lease has lapsed (docs/cluster.md): nothing was stored.</summary>
    internal const string LeaseLapsedMessage = "this node cannot mint message ids right now (its node id lease lapsed); nothing was done, retry later";

    /// <summary>The message id minter; group entries take their ids from it too (one id space, protocol.md §2).</summary>
    public MessageIds Ids => _ids;

    /// <summary>
    /// Before the first send (the server calls it before it accepts connections): new ids start above the largest
    /// stored one, so a clock behind the stored ids (stepped back across a restart) cannot repeat an id. Throws
    /// when MariaDB cannot say: starting without the mark could answer sends with ids already taken.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        long newest = await _store.NewestMessageIdAsync(ct);
        _ids.AdvancePast(newest);
        LogIdsStart(_logger, newest, MessageIds.TimestampOf(newest), Now());
    }

    public SearchIndexer Indexer { get; }

    public AckWriter Acks { get; }

    /// <summary>Queued-offline, offline-pushed and read totals for the metrics.</summary>
    public MessageCounters Counters { get; } = new();

    public void Register(ActionRouter router, Dispatcher dispatcher)
    {
        router.Register(Actions.SendMessage, allowedBeforeLogin: false, SendMessage);
        router.Register(Actions.MessageAck, allowedBeforeLogin: false, MessageAck);
        router.Register(Actions.MarkRead, allowedBeforeLogin: false, MarkRead);
        router.Register(Actions.RecallMessage, allowedBeforeLogin: false, RecallMessage);
        router.Register(Actions.GetChatHistory, allowedBeforeLogin: false, GetChatHistory);
        router.Register(Actions.GetConversations, allowedBeforeLogin: false, GetConversations);
        router.Register(Actions.SyncMessages, allowedBeforeLogin: false, SyncMessages);
        router.Register(Actions.SearchMessages, allowedBeforeLogin: false, SearchMessages);
        router.Register(Actions.DeleteMessage, allowedBeforeLogin: false, DeleteMessage);
        router.Register(Actions.GetUnreadCounts, allowedBeforeLogin: false, GetUnreadCounts);
        _devices = dispatcher.AddSlot<DeviceMessaging>();
        dispatcher.SignedIn += PushOfflineAtLogin;
        // A closed device's drain ends: an ack answered after the close must not fetch another batch.
        dispatcher.SessionClosed += session =>
        {
            if (_devices.Get(session) is { } device) Volatile.Write(ref device.Cursor, null);
        };
    }

    /// <summary>On the device's reactor: messaging's state of the device, made at its first use.</summary>
    private DeviceMessaging DeviceState(Session session)
    {
        if (_devices.Get(session) is { } device) return device;
        device = new DeviceMessaging();
        _devices.Set(session, device);
        return device;
    }

    private static MessageRequest? Parse(RequestContext ctx, params ReadOnlySpan<Func<MessageRequest, string?>> rules) =>
        RequestFields.Parse(ctx, MessageRequest.Json, rules);

    // Type, content and file_id together: `text` needs content, `file` a file_id and an optional caption (protocol.md §10).
    private static string? BodyRule(MessageRequest r) => FileRules.MessageBody(r.Type, r.Content, r.FileId, MessagingOptions.MaxContentChars);

    private static string? ClientMsgIdRule(MessageRequest r) =>
        r.ClientMsgId is null or { Length: >= 1 and <= 64 } ? null : "client_msg_id: 1-64 characters";

    private void SendMessage(RequestContext ctx)
    {
        var request = Parse(ctx, r => MessageFieldRules.UserId(r.ReceiverId, "receiver_id"), BodyRule, ClientMsgIdRule);
        if (request is null) return;
        uint sender = ctx.Session.UserId, receiver = (uint)request.ReceiverId!.Value;
        if (receiver == sender)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "receiver_id: cannot message oneself");
            return;
        }
        // Minted here, in request order, so pipelined sends keep their order even if a friendship lookup is slow.
        if (!_ids.TryNext(out long id))
        {
            ctx.Respond(ErrorCodes.Unavailable, LeaseLapsedMessage);
            return;
        }
        // Pipelined: a client may have many sends in flight; their answers still go out in request order.
        var pending = ctx.BeginAsync(pipelined: true);
        var blocked = _blocks.IsBlockedAsync(sender, receiver, CancellationToken.None);
        var areFriends = _friends.AreFriendsAsync(sender, receiver, CancellationToken.None);
        // A file message asks MariaDB whether the sender may pass the file on; it always finishes off the reactor.
        var file = request.FileId is { } fileId ? FileLookup(fileId, sender) : NoFile;
        // The block and friend sets of an active sender are cached: the common case queues the message right here on
        // the reactor, with no query. A send that must wait for a lookup holds the connection's later sends behind
        // it (DeviceMessaging.SendChain), or a pipelined burst would be stored and pushed out of order.
        var device = DeviceState(ctx.Session);
        var earlier = device.SendChain;
        if ((earlier is null || earlier.IsCompleted) && blocked.IsCompletedSuccessfully && areFriends.IsCompletedSuccessfully && file.IsCompletedSuccessfully)
        {
            Enqueue(pending, id, sender, receiver, request, blocked.Result, areFriends.Result, file.Result);
            return;
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        device.SendChain = done.Task;
        OffReactor.Run(pending, _logger, async p =>
        {
            try
            {
                if (earlier is not null) await earlier;
                Enqueue(p, id, sender, receiver, request, await blocked, await areFriends, await file);
            }
            finally
            {
                done.TrySetResult();
            }
        });
    }

    private static readonly Task<FileLookupResult> NoFile = Task.FromResult(new FileLookupResult(null, Wanted: false));

    private readonly record struct FileLookupResult(StoredFile? File, bool Wanted);

    private async Task<FileLookupResult> FileLookup(long fileId, uint sender) =>
        new(Files is null ? null : await Files.VisibleAsync(fileId, sender, CancellationToken.None), Wanted: true);

    /// <summary>Which files a sender may put in a message (set at composition; null: every file message is NOT_FOUND).</summary>
    public IFileCatalog? Files { get; set; }

    private void Enqueue(PendingResponse pending, long id, uint sender, uint receiver, MessageRequest request, bool blocked, bool areFriends,
        FileLookupResult file)
    {
        // protocol.md §8: the block first, friends or not; either side's block stops messages both ways (docs/messaging.md).
        if (blocked)
        {
            pending.Complete(ErrorCodes.Forbidden, "a block between you and this user forbids messages");
            return;
        }
        if (!areFriends)
        {
            pending.Complete(ErrorCodes.NotFriends, "you can only message your friends");
            return;
        }
        // protocol.md §10: a file the sender neither uploaded nor can see is NOT_FOUND, like one that does not exist.
        if (file.Wanted && file.File is null)
        {
            pending.Complete(ErrorCodes.NotFound, "no such file");
            return;
        }
        var message = new NewMessage(id, sender, receiver, request.ClientMsgId, file.Wanted ? MessageTypes.File : MessageTypes.Text, request.Content ?? "",
            MessageIds.TimestampOf(id), file.File);
        if (!Writer.TryEnqueue(new QueuedSend(message, pending, this)))
            pending.Complete(ErrorCodes.ServerBusy, Writer.IsStopping
                ? "the server is stopping; the message was not sent, retry after reconnecting"
                : "too many messages waiting to be stored; retry shortly");
    }

    /// <summary>A send waiting for its batch: answers the sender and delivers once stored.</summary>
    private sealed class QueuedSend(NewMessage message, PendingResponse pending, MessagingService service) : QueuedMessage(message)
    {
        public override void Stored(StoreOutcome outcome)
        {
            // No row of its own and no earlier message to point to: the send failed (docs/messaging.md); a retry gets a
            // fresh, larger id.
            if (outcome.Result == StoreResult.NotStored)
            {
                pending.Complete(ErrorCodes.Internal, "internal error; the message was not stored, retry");
                return;
            }
            if (outcome.Result == StoreResult.Stored) service.Deliver(Message, pending.Session);
            pending.Complete(ErrorCodes.Ok, outcome.Result == StoreResult.Stored ? "sent" : "already sent (same client_msg_id)", outcome, static (w, o) =>
            {
                w.WriteNumber("message_id"u8, o.MessageId);
                w.WriteNumber("timestamp"u8, o.Timestamp);
                w.WriteString("status"u8, "sent"u8);
            });
        }

        public override void Failed(bool backendDown) =>
            pending.Complete(backendDown ? ErrorCodes.Unavailable : ErrorCodes.Internal,
                backendDown ? "the message store is unavailable; the message was not sent, retry later" : "internal error; the message was not sent");
    }

    /// <summary>The `message` push, serialized once, to every device of the receiver and the sender's other devices.</summary>
    private void Deliver(NewMessage m, Session sender)
    {
        var record = new MessageRecord(m.MessageId, m.SenderId, m.ReceiverId, m.Content, m.Type, m.Timestamp, MessageStatus.Sent, Recalled: false,
            m.File?.FileId, m.File);
        var frame = Frames.CreatePush(PushNames.Message, record, MessageJson.WriteMembers);
        if (_delivery.ToUser(m.ReceiverId, frame.AddReference(), messageId: m.MessageId) == 0) Counters.AddQueuedOffline();
        _delivery.ToUser(m.SenderId, frame, except: sender, messageId: m.MessageId);
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(Level = LogLevel.Information, Message = "message ids start above {NewestId} (made at {NewestAt} ms; the clock says {Now} ms)")]
    private static partial void LogIdsStart(ILogger logger, long newestId, long newestAt, long now);

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        await Acks.DisposeAsync();
        await Indexer.DisposeAsync();
    }
}
