using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
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
        Writer = new MessageWriter(writes, options, Indexer, _ids, logger);
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
        // The content goes from the receive buffer into a pooled message (NewMessage: its ownership rule) with no
        // string; a body the fast reader does not take (an error to answer, a field of another action) is read the
        // general way and answered with the same words as ever.
        var message = NewMessage.Rent();
        uint receiver;
        if (!SendMessageReader.TryRead(ctx.Body, message, out receiver, out long fileIdGiven))
        {
            var request = Parse(ctx, r => MessageFieldRules.UserId(r.ReceiverId, "receiver_id"), BodyRule, ClientMsgIdRule);
            if (request is null)
            {
                message.Release();
                return;
            }
            receiver = (uint)request.ReceiverId!.Value;
            fileIdGiven = request.FileId ?? 0;
            message.Type = request.FileId is null ? MessageTypes.Text : MessageTypes.File;
            message.SetText(request.Content ?? "", request.ClientMsgId);
        }
        uint sender = ctx.Session.UserId;
        if (receiver == sender)
        {
            message.Release();
            ctx.Respond(ErrorCodes.InvalidArgument, "receiver_id: cannot message oneself");
            return;
        }
        // The id is minted when the message is queued (MessageWriter.TryMintAndEnqueue: queue order is id order); a
        // device's pipelined sends are queued in request order (DeviceMessaging.SendChain), so their ids follow it.
        message.SenderId = sender;
        message.ReceiverId = receiver;
        // Pipelined: a client may have many sends in flight; their answers still go out in request order. Pooled: the
        // send's QueuedSend is its only holder and lets go of it at Complete.
        var pending = ctx.BeginAsync(pipelined: true, pooled: true);
        var blocked = _blocks.IsBlockedAsync(sender, receiver, CancellationToken.None);
        var areFriends = _friends.AreFriendsAsync(sender, receiver, CancellationToken.None);
        // A file message asks MariaDB whether the sender may pass the file on; it always finishes off the reactor.
        var file = message.Type == MessageTypes.File ? FileLookup(fileIdGiven, sender) : NoFile;
        // The block and friend sets of an active sender are cached: the common case queues the message right here on
        // the reactor, with no query. A send that must wait for a lookup holds the connection's later sends behind
        // it (DeviceMessaging.SendChain), or a pipelined burst would be stored and pushed out of order.
        var device = DeviceState(ctx.Session);
        var earlier = device.SendChain;
        if ((earlier is null || earlier.IsCompleted) && blocked.IsCompletedSuccessfully && areFriends.IsCompletedSuccessfully && file.IsCompletedSuccessfully)
        {
            Enqueue(pending, message, blocked.Result, areFriends.Result, file.Result);
            return;
        }
        EnqueueAfterLookups(device, pending, message, earlier, blocked, areFriends, file);
    }

    /// <summary>
    /// The send waits for a lookup (or an earlier send that does) off the reactor. A method of its own: a lambda in
    /// SendMessage would make every send allocate its closure, taken or not.
    /// </summary>
    private void EnqueueAfterLookups(DeviceMessaging device, PendingResponse pending, NewMessage message, Task? earlier, ValueTask<bool> blocked,
        ValueTask<bool> areFriends, Task<FileLookupResult> file)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        device.SendChain = done.Task;
        // The message passes to this work; a lookup that throws leaves it to the GC (OffReactor answers the send).
        OffReactor.Run(pending, _logger, async p =>
        {
            try
            {
                if (earlier is not null) await earlier;
                Enqueue(p, message, await blocked, await areFriends, await file);
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

    /// <summary>Queues the message for the writer, or answers why not; either way the caller's reference passes on.</summary>
    private void Enqueue(PendingResponse pending, NewMessage message, bool blocked, bool areFriends, FileLookupResult file)
    {
        // protocol.md §8: the block first, friends or not; either side's block stops messages both ways (docs/messaging.md).
        string? refusal = null, code = null;
        if (blocked) (code, refusal) = (ErrorCodes.Forbidden, "a block between you and this user forbids messages");
        else if (!areFriends) (code, refusal) = (ErrorCodes.NotFriends, "you can only message your friends");
        // protocol.md §10: a file the sender neither uploaded nor can see is NOT_FOUND, like one that does not exist.
        else if (file.Wanted && file.File is null) (code, refusal) = (ErrorCodes.NotFound, "no such file");
        if (refusal is not null)
        {
            message.Release();
            pending.Complete(code!, refusal);
            return;
        }
        message.File = file.File;
        var queued = QueuedSend.Rent(message, pending, this);
        var result = Writer.TryMintAndEnqueue(queued);
        if (result == EnqueueResult.Queued) return;
        queued.Return();
        if (result == EnqueueResult.IdsLapsed) pending.Complete(ErrorCodes.Unavailable, LeaseLapsedMessage);
        else pending.Complete(ErrorCodes.ServerBusy, Writer.IsStopping
            ? "the server is stopping; the message was not sent, retry after reconnecting"
            : "too many messages waiting to be stored; retry shortly");
    }

    /// <summary>
    /// A send waiting for its batch: answers the sender and delivers once stored. Pooled with its message's reference
    /// and its pending answer: once answered it lets go of all three (the writer touches it no more).
    /// </summary>
    private sealed class QueuedSend : QueuedMessage
    {
        // One per message waiting for the writer; a deeper queue allocates the rest (see NewMessage.PoolSize).
        private static readonly ObjectPool<QueuedSend> Pool = new DefaultObjectPool<QueuedSend>(new DefaultPooledObjectPolicy<QueuedSend>(), NewMessage.PoolSize);

        private PendingResponse _pending = null!;
        private MessagingService _service = null!;

        public static QueuedSend Rent(NewMessage message, PendingResponse pending, MessagingService service)
        {
            var queued = Pool.Get();
            queued.Message = message;
            queued._pending = pending;
            queued._service = service;
            return queued;
        }

        /// <summary>Lets go of the message (its reference) and goes back to the pool.</summary>
        public void Return()
        {
            Message.Release();
            Message = null!;
            _pending = null!;
            _service = null!;
            Pool.Return(this);
        }

        public override void Stored(StoreOutcome outcome)
        {
            var pending = _pending;
            // No row of its own and no earlier message to point to: the send failed (docs/messaging.md); a retry gets a
            // fresh, larger id.
            if (outcome.Result == StoreResult.NotStored)
            {
                Return();
                pending.Complete(ErrorCodes.Internal, "internal error; the message was not stored, retry");
                return;
            }
            if (outcome.Result == StoreResult.Stored) _service.Deliver(Message, pending.Session);
            Return();
            pending.Complete(ErrorCodes.Ok, outcome.Result == StoreResult.Stored ? "sent" : "already sent (same client_msg_id)", outcome, static (w, o) =>
            {
                w.WriteNumber("message_id"u8, o.MessageId);
                w.WriteNumber("timestamp"u8, o.Timestamp);
                w.WriteString("status"u8, "sent"u8);
            });
        }

        public override void Failed(bool backendDown)
        {
            var pending = _pending;
            Return();
            pending.Complete(backendDown ? ErrorCodes.Unavailable : ErrorCodes.Internal,
                backendDown ? "the message store is unavailable; the message was not sent, retry later" : "internal error; the message was not sent");
        }
    }

    /// <summary>The `message` push, serialized once from the stored message's own bytes, to every device of the receiver
    /// and the sender's other devices.</summary>
    private void Deliver(NewMessage m, Session sender)
    {
        var frame = Frames.CreatePush(PushNames.Message, m, MessageJson.WriteMembers);
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
