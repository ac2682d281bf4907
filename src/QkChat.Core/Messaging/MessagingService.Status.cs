using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Messaging;

public sealed partial class MessagingService
{
    /// <summary>Most ids in one message_ack: five offline batches; a client acks as it goes.</summary>
    private const int MaxAckIds = 500;

    private static string? AckIdsRule(MessageRequest r)
    {
        if (r.MessageIds is not { Length: >= 1 and <= MaxAckIds } ids) return $"message_ids: 1-{MaxAckIds} message ids";
        foreach (long id in ids)
            if (MessageFieldRules.MessageIdRule(id, "message_ids") is { } problem) return problem;
        return null;
    }

    private void MessageAck(RequestContext ctx)
    {
        var request = Parse(ctx, AckIdsRule);
        if (request is null) return;
        var ack = new DeliveryAck(ctx.Session.UserId, request.MessageIds!.Distinct().ToArray());
        var pending = ctx.BeginAsync(pipelined: true);
        // Only messages to the acking user change: the store checks each id's receiver, so others' ids do nothing.
        if (!Acks.TryEnqueue(new QueuedDeliveryAck(ack, pending, this)))
            pending.Complete(ErrorCodes.ServerBusy, "too many acknowledgements waiting to be stored; retry shortly");
    }

    private sealed class QueuedDeliveryAck(DeliveryAck ack, PendingResponse pending, MessagingService service) : QueuedAck(ack)
    {
        public override void Stored(List<StatusChange> changes)
        {
            pending.Complete(ErrorCodes.Ok, $"{changes.Count} message(s) now delivered");
            foreach (var change in changes)
            {
                service._delivery.ToUser(change.SenderId, Frames.CreatePush(PushNames.MessageStatus, change, static (w, c) =>
                {
                    w.WriteNumber("message_id"u8, c.MessageId);
                    w.WriteNumber("peer_id"u8, c.ReceiverId);
                    w.WriteString("status"u8, "delivered"u8);
                }));
            }
            _ = service.ContinueOfflineAsync(pending.Session, Ack.ReceiverId);
        }

        public override void Failed(bool backendDown) =>
            pending.Complete(backendDown ? ErrorCodes.Unavailable : ErrorCodes.Internal,
                backendDown ? "the message store is unavailable; nothing was acknowledged, retry later" : "internal error");
    }

    private void MarkRead(RequestContext ctx)
    {
        var request = Parse(ctx, r => MessageFieldRules.UserId(r.ChatUserId, "chat_user_id"),
            r => MessageFieldRules.MessageIdRule(r.UpToMessageId, "up_to_message_id"));
        if (request is null) return;
        uint me = ctx.Session.UserId, peer = (uint)request.ChatUserId!.Value;
        long upTo = request.UpToMessageId!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            int changed = await _store.MarkReadAsync(me, peer, upTo, CancellationToken.None);
            Counters.AddRead(changed);
            pending.Complete(ErrorCodes.Ok, $"{changed} message(s) now read");
            if (changed > 0)
            {
                _delivery.ToUser(peer, Frames.CreatePush(PushNames.MessageStatus, (upTo, me), static (w, s) =>
                {
                    w.WriteNumber("up_to_message_id"u8, s.upTo);
                    w.WriteNumber("peer_id"u8, s.me);
                    w.WriteString("status"u8, "read"u8);
                }));
            }
        });
    }

    private void RecallMessage(RequestContext ctx)
    {
        var request = Parse(ctx, r => MessageFieldRules.MessageIdRule(r.MessageId, "message_id"));
        if (request is null) return;
        uint me = ctx.Session.UserId;
        long id = request.MessageId!.Value;
        OffReactor.Run(ctx, _logger, async pending =>
        {
            // protocol.md §8: outside my conversations it does not exist; received by me, it is not mine to recall.
            var message = await _store.FindAsync(me, id, CancellationToken.None);
            if (message is null)
            {
                pending.Complete(ErrorCodes.NotFound, "no such message");
                return;
            }
            if (message.SenderId != me)
            {
                pending.Complete(ErrorCodes.Forbidden, "only the sender can recall a message");
                return;
            }
            long now = Now();
            if (!message.Recalled && now - message.Timestamp > (long)MessagingOptions.RecallWindow.TotalMilliseconds)
            {
                pending.Complete(ErrorCodes.RecallWindowExpired, $"messages can be recalled within {MessagingOptions.RecallWindow.TotalSeconds:0} s");
                return;
            }
            bool recalled = await _store.RecallAsync(me, id, now, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, recalled ? "recalled" : "already recalled");
            if (!recalled) return;
            var frame = Frames.CreatePush(PushNames.MessageRecalled, (id, me), static (w, s) =>
            {
                w.WriteNumber("message_id"u8, s.id);
                w.WriteNumber("by"u8, s.me);
            });
            _delivery.ToUser(message.ReceiverId, frame.AddReference());
            _delivery.ToUser(me, frame);
        });
    }
}
