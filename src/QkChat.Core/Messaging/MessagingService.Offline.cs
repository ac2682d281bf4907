using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Messaging;

/// <summary>
/// The offline queue pushed at login. A message that commits while its receiver logs in can reach the new
/// connection twice: live (it was registered by then) and in the first offline batch (still `sent`). So while a
/// device drains, live pushes and batches go through its reactor and the device's <see cref="DeviceMessaging"/>
/// (its session's message filter) drops what it already got.
/// </summary>
public sealed partial class MessagingService
{
    /// <summary>At login (on the reactor): start tracking, then fetch the first batch off the reactor.</summary>
    private void PushOfflineAtLogin(Session session)
    {
        DeviceState(session).BeginDrain(session);
        uint me = session.UserId;
        // The queue as it was at login, below the writer's watermark (docs/messaging.md "Order and catch-up"): every
        // message at or above it is released from now on, so it reaches this device live (it is registered), and no
        // batch shows a message while an earlier one is still being stored (a cursor past it would skip that one).
        long before = Writer.VisibleBelow();
        _ = Task.Run(() => FetchOfflineBatchAsync(session, me, afterMessageId: 0, before));
    }

    /// <summary>After the device acked (any thread): the next batch, or the end of the drain.</summary>
    private async Task ContinueOfflineAsync(Session session, uint me)
    {
        if (_devices.Get(session) is not { } device) return;
        if (Interlocked.Exchange(ref device.Cursor, null) is { } cursor)
        {
            await FetchOfflineBatchAsync(session, me, cursor.After, cursor.Before);
        }
        else if (session.MessageFilter is not null)
        {
            // Once the last batch has gone out and been acked, live pushes are all there is.
            session.Post(static (s, d) =>
            {
                var device = (DeviceMessaging)d!;
                if (device.OfflineFinalSent) device.EndDrain(s);
            }, device);
        }
    }

    private async Task FetchOfflineBatchAsync(Session session, uint me, long afterMessageId, long beforeMessageId)
    {
        IReadOnlyList<MessageRecord> batch;
        try
        {
            batch = await _store.UndeliveredAsync(me, afterMessageId, beforeMessageId, MessagingOptions.OfflineBatch + 1, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Nothing is lost: the messages stay `sent` and go out at the next login (or by sync_messages).
            LogOfflineFailed(_logger, me, e.Message);
            return;
        }
        session.Post(static (s, state) =>
        {
            var (self, batch, me, before) = ((MessagingService, IReadOnlyList<MessageRecord>, uint, long))state!;
            self.SendOfflineBatch(s, batch, me, before);
        }, (this, batch, me, beforeMessageId));
    }

    /// <summary>On the reactor: the batch without what the device already got, within the frame budget.</summary>
    private void SendOfflineBatch(Session session, IReadOnlyList<MessageRecord> batch, uint me, long before)
    {
        var device = DeviceState(session);
        var seen = device.OfflineSeen;
        var fresh = seen is null ? batch : batch.Where(m => !seen.Contains(m.MessageId)).ToList();
        bool moreStored = batch.Count > MessagingOptions.OfflineBatch;
        if (fresh.Count == 0)
        {
            // Everything fetched had come live already: look further, or the drain is over.
            if (moreStored) _ = Task.Run(() => FetchOfflineBatchAsync(session, me, batch[^1].MessageId, before));
            else device.EndDrain(session);
            return;
        }
        var written = new StrongBox<int>();
        var frame = Frames.CreatePush(PushNames.OfflineMessages, (fresh, written, moreStored), static (w, s) =>
        {
            int n = MessageJson.WritePage(w, s.fresh, MessagingOptions.OfflineBatch, s.moreStored);
            s.written.Value = n;
        });
        for (int i = 0; i < written.Value; i++) seen?.Add(fresh[i].MessageId);
        bool hasMore = written.Value < fresh.Count || moreStored;
        // Set before the push goes out: the device's ack of this batch must find it.
        if (hasMore) Volatile.Write(ref device.Cursor, new OfflineCursor(fresh[written.Value - 1].MessageId, before));
        else device.OfflineFinalSent = true;
        // To this device, on its reactor: queued at once, after nothing it has not yet seen.
        _delivery.ToDevice(session, frame);
        Counters.AddOfflinePushed(written.Value);
        LogOfflinePushed(_logger, me, written.Value, hasMore);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "user {UserId}: {Count} offline message(s) pushed (more waiting: {HasMore})")]
    private static partial void LogOfflinePushed(ILogger logger, uint userId, int count, bool hasMore);

    [LoggerMessage(Level = LogLevel.Warning, Message = "user {UserId}: offline messages not pushed, they wait for the next login: {Error}")]
    private static partial void LogOfflineFailed(ILogger logger, uint userId, string error);
}
