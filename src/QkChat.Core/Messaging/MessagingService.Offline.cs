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
        // On several nodes each batch is bounded lower still, by the other nodes' messages in flight, and the drain
        // goes on until it has reached this target (FetchOfflineBatchAsync).
        var cursor = new OfflineCursor(0, Writer.VisibleBelow(), Environment.TickCount64 + (long)DrainPatience.TotalMilliseconds);
        _ = Task.Run(() => FetchOfflineBatchAsync(session, me, cursor));
    }

    /// <summary>
    /// How long the drain at login goes on waiting for another node's batch in flight below its target (docs/cluster.md
    /// "Read marks"): 20 s covers a SIGKILLed node until its death is known (its lease lapses 15 s after its last
    /// renewal, seen within the next second of liveness reads). Past it the drain reads up to its target: what is
    /// still in flight reaches this device live when it is released.
    /// </summary>
    internal static readonly TimeSpan DrainPatience = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Between two looks at the other nodes' marks while the drain waits for one below its target with nothing new to
    /// send: five publish periods (20 ms each), so a waiting drain costs a few queries a second, not a loop.
    /// </summary>
    private static readonly TimeSpan DrainRetry = TimeSpan.FromMilliseconds(100);

    /// <summary>After the device acked (any thread): the next batch, or the end of the drain.</summary>
    private async Task ContinueOfflineAsync(Session session, uint me)
    {
        if (_devices.Get(session) is not { } device) return;
        if (Interlocked.Exchange(ref device.Cursor, null) is { } cursor)
        {
            await FetchOfflineBatchAsync(session, me, cursor);
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

    private async Task FetchOfflineBatchAsync(Session session, uint me, OfflineCursor cursor)
    {
        IReadOnlyList<MessageRecord> batch;
        long before;
        try
        {
            // Another node's batch in flight below the target bounds this step; past the drain's patience, the target.
            before = Environment.TickCount64 >= cursor.GiveUpAt ? cursor.Target : await ReadBoundAsync(cursor.Target, ReadPatience);
            batch = await _store.UndeliveredAsync(me, cursor.After, before, MessagingOptions.OfflineBatch + 1, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Nothing is lost: the messages stay `sent` and go out at the next login (or by sync_messages).
            LogOfflineFailed(_logger, me, e.Message);
            return;
        }
        session.Post(static (s, state) =>
        {
            var (self, batch, me, cursor, before) = ((MessagingService, IReadOnlyList<MessageRecord>, uint, OfflineCursor, long))state!;
            self.SendOfflineBatch(s, batch, me, cursor, before);
        }, (this, batch, me, cursor, before));
    }

    /// <summary>On the reactor: the batch without what the device already got, within the frame budget.</summary>
    private void SendOfflineBatch(Session session, IReadOnlyList<MessageRecord> batch, uint me, OfflineCursor cursor, long before)
    {
        var device = DeviceState(session);
        var seen = device.OfflineSeen;
        var fresh = seen is null ? batch : batch.Where(m => !seen.Contains(m.MessageId)).ToList();
        bool moreStored = batch.Count > MessagingOptions.OfflineBatch;
        // The step was bounded below the target by another node's batch in flight: what lies between may hold messages
        // stored before the login (released on other nodes before this device registered, so not pushed to it). The drain
        // must not end before it has read them (docs/cluster.md "Read marks").
        bool belowTarget = !moreStored && before < cursor.Target;
        if (fresh.Count == 0)
        {
            // Everything fetched had come live already: look further, or the drain is over.
            if (moreStored) _ = Task.Run(() => FetchOfflineBatchAsync(session, me, cursor with { After = batch[^1].MessageId }));
            else if (belowTarget)
                _ = Task.Run(async () =>
                {
                    await Task.Delay(DrainRetry);
                    await FetchOfflineBatchAsync(session, me, cursor with { After = Math.Max(cursor.After, before - 1) });
                });
            else device.EndDrain(session);
            return;
        }
        var written = new StrongBox<int>();
        bool more = moreStored || belowTarget;
        var frame = Frames.CreatePush(PushNames.OfflineMessages, (fresh, written, more), static (w, s) =>
        {
            int n = MessageJson.WritePage(w, s.fresh, MessagingOptions.OfflineBatch, s.more);
            s.written.Value = n;
        });
        for (int i = 0; i < written.Value; i++) seen?.Add(fresh[i].MessageId);
        bool hasMore = written.Value < fresh.Count || more;
        // All of this step written: the next one starts at its bound (ids below it were all read).
        long after = written.Value == fresh.Count && !moreStored ? Math.Max(fresh[^1].MessageId, before - 1) : fresh[written.Value - 1].MessageId;
        // Set before the push goes out: the device's ack of this batch must find it.
        if (hasMore) Volatile.Write(ref device.Cursor, cursor with { After = after });
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
