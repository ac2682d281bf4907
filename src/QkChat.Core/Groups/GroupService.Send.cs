using QkChat.Core.Dispatch;
using QkChat.Core.Files;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;
using QkChat.Protocol;

namespace QkChat.Core.Groups;

/// <summary>
/// send_group_message: field rules and the id on the reactor, then the group's write-behind <see cref="GroupWriter"/>; answered
/// after the batch is durable, from what the store holds. A stored entry's `group_message` is serialized once and goes
/// to every device of every member who joined at or before it (the sender's other devices too, not the sending one),
/// before the sender is answered.
/// </summary>
public sealed partial class GroupService
{
    // Type, content and file_id together: `text` needs content, `file` a file_id and an optional caption (protocol.md §10).
    private static string? BodyRule(GroupRequest r) => FileRules.MessageBody(r.Type, r.Content, r.FileId, MessagingOptions.MaxContentChars);

    /// <summary>Which files a sender may put in an entry (set at composition; null: every file entry is NOT_FOUND).</summary>
    public IFileCatalog? Files { get; set; }

    private void SendGroupMessage(RequestContext ctx)
    {
        var request = Parse(ctx, GroupIdRule, BodyRule,
            r => r.ClientMsgId is null or { Length: >= 1 and <= 64 } ? null : "client_msg_id: 1-64 characters");
        if (request is null) return;
        // Pipelined like send_message: a client may have many sends in flight; answers go out in request order, and the
        // group's writer (one per group, GroupWriters) takes them in queue order, so one device's entries into a group get
        // seqs in the order it sent them.
        if (!_ids.TryNext(out long id))
        {
            ctx.Respond(ErrorCodes.Unavailable, MessagingService.LeaseLapsedMessage);
            return;
        }
        var entry = new NewGroupEntry(request.GroupId!.Value, ctx.Session.UserId, id, request.ClientMsgId, request.Content ?? "", MessageIds.TimestampOf(id));
        if (request.FileId is not { } fileId)
        {
            Enqueue(ctx.BeginAsync(pipelined: true), entry);
            return;
        }
        // A file entry asks MariaDB whether the sender may pass the file on. Serial, not pipelined: the device's later
        // requests wait for its answer, so its entries still get seqs in the order it sent them.
        uint sender = ctx.Session.UserId;
        OffReactor.Run(ctx.BeginAsync(pipelined: false), _logger, async pending =>
        {
            var file = Files is null ? null : await Files.VisibleAsync(fileId, sender, CancellationToken.None);
            if (file is null)
            {
                pending.Complete(ErrorCodes.NotFound, "no such file");
                return;
            }
            Enqueue(pending, entry with { File = file });
        });
    }

    private void Enqueue(PendingResponse pending, NewGroupEntry entry)
    {
        if (!Writers.TryEnqueue(new QueuedGroupSend(entry, pending, this)))
            pending.Complete(ErrorCodes.ServerBusy, Writers.IsStopping
                ? "the server is stopping; the message was not sent, retry after reconnecting"
                : "too many messages waiting to be stored; retry shortly");
    }

    private sealed class QueuedGroupSend(NewGroupEntry entry, PendingResponse pending, GroupService service) : QueuedGroupEntry(entry)
    {
        public override void Stored(AppendOutcome outcome, GroupMembership? members)
        {
            switch (outcome.Result)
            {
                case AppendResult.NotMember:
                    pending.Complete(ErrorCodes.NotFound, "no such group");
                    return;
                case AppendResult.NotStored:
                    pending.Complete(ErrorCodes.Internal, "internal error; the message was not stored, retry");
                    return;
                case AppendResult.Stored when members is not null:
                    service.FanOut(Entry, outcome, members, pending.Session);
                    break;
                case AppendResult.Stored:
                    // No push now; a gap fill later must still skip this device, which is answered `sent` below.
                    service._delivery.GroupUnpushed(new GroupSeq(Entry.GroupId, outcome.Seq), pending.Session);
                    break;
            }
            pending.Complete(ErrorCodes.Ok, outcome.Result == AppendResult.Stored ? "sent" : "already sent (same client_msg_id)", outcome,
                static (w, o) =>
                {
                    w.WriteNumber("message_id"u8, o.MessageId);
                    w.WriteNumber("seq"u8, o.Seq);
                    w.WriteNumber("timestamp"u8, o.Timestamp);
                });
        }

        public override void Failed(bool backendDown) =>
            pending.Complete(backendDown ? ErrorCodes.Unavailable : ErrorCodes.Internal,
                backendDown ? "the message store is unavailable; the message was not sent, retry later" : "internal error; the message was not sent");
    }

    private long _pushed;

    /// <summary>
    /// `group_message` pushes handed to devices (qkchat_group_entries_pushed_total). They are not droppable (a member
    /// who misses one sees a seq gap and syncs, but only a closed connection loses one), so the send-queue policy
    /// drops none: a device too slow for them is closed as a slow consumer, as for one-to-one `message` pushes.
    /// </summary>
    public long Pushed => Interlocked.Read(ref _pushed);

    /// <summary>One `group_message` frame, one reference per device reached.</summary>
    private void FanOut(NewGroupEntry e, AppendOutcome outcome, GroupMembership members, Session sender)
    {
        var stored = new GroupEntry(e.GroupId, outcome.Seq, outcome.MessageId, e.SenderId, e.File is null ? GroupEntryTypes.Text : MessageTypes.File,
            e.Content, outcome.Timestamp, Recalled: false, Event: null, UserIds: [], e.File?.FileId, e.File);
        int reached = _delivery.ToGroup(new GroupSeq(e.GroupId, outcome.Seq), members.ReceiversOf(outcome.Seq),
            Frames.CreatePush(PushNames.GroupMessage, stored, GroupJson.WriteMembers), except: sender);
        Interlocked.Add(ref _pushed, reached);
    }
}
