using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Transport;

namespace QkChat.Core.Messaging;

/// <summary>
/// The offline queue pushed at login. A message that commits while its receiver logs in can reach the new
/// connection twice: live (it was registered by then) and in the first offline batch (still `sent`). So while a
/// device drains, live pushes and batches go through its reactor and Session.OfflineSeen drops what it already got.
/// </summary>
public sealed partial class MessagingService
{
    // Connection -> id of the last offline message pushed, while more wait. The next batch goes out when the
    // device acks: the queue drains at the client's pace and never floods its send queue (a long absence can
    // leave thousands of messages; pushing them all at once would trip the slow-consumer cap).
    private readonly ConcurrentDictionary<Connection, (long After, long Before)> _offlineCursors = new();

    /// <summary>At login (on the reactor): start tracking, then fetch the first batch off the reactor.</summary>
    private void PushOfflineAtLogin(Connection connection, Session session)
    {
        session.OfflineSeen = [];
        session.OfflineFinalSent = false;
        uint me = session.UserId;
        // The queue as it was at login: any message minted from now on reaches this device live (it is registered),
        // so a message sent right after a login comes as a `message` push, never inside an offline batch.
        long before = _ids.Next();
        _ = Task.Run(() => FetchOfflineBatchAsync(connection, me, afterMessageId: 0, before));
    }

    private async Task ContinueOfflineAsync(Connection connection, uint me)
    {
        if (_offlineCursors.TryRemove(connection, out var cursor))
        {
            await FetchOfflineBatchAsync(connection, me, cursor.After, cursor.Before);
        }
        else if (connection.State is Session { OfflineSeen: not null })
        {
            // Once the last batch has gone out and been acked, live pushes are all there is.
            connection.Post(static (_, s) =>
            {
                var session = (Session)s!;
                if (session.OfflineFinalSent) session.OfflineSeen = null;
            }, connection.State);
        }
    }

    private async Task FetchOfflineBatchAsync(Connection connection, uint me, long afterMessageId, long beforeMessageId)
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
        connection.Post(static (c, state) =>
        {
            var (self, batch, me, before) = ((MessagingService, IReadOnlyList<MessageRecord>, uint, long))state!;
            self.SendOfflineBatch(c, (Session)c.State!, batch, me, before);
        }, (this, batch, me, beforeMessageId));
    }

    /// <summary>On the reactor: the batch without what the connection already got, within the frame budget.</summary>
    private void SendOfflineBatch(Connection connection, Session session, IReadOnlyList<MessageRecord> batch, uint me, long before)
    {
        var seen = session.OfflineSeen;
        var fresh = seen is null ? batch : batch.Where(m => !seen.Contains(m.MessageId)).ToList();
        bool moreStored = batch.Count > MessagingOptions.OfflineBatch;
        if (fresh.Count == 0)
        {
            // Everything fetched had come live already: look further, or the drain is over.
            if (moreStored) _ = Task.Run(() => FetchOfflineBatchAsync(connection, me, batch[^1].MessageId, before));
            else session.OfflineSeen = null;
            return;
        }
        var written = new StrongBox<int>();
        var frame = Dispatcher.CreatePush("offline_messages", (fresh, written, moreStored), static (w, s) =>
        {
            int n = MessageJson.WritePage(w, s.fresh, MessagingOptions.OfflineBatch, s.moreStored);
            s.written.Value = n;
        });
        for (int i = 0; i < written.Value; i++) seen?.Add(fresh[i].MessageId);
        bool hasMore = written.Value < fresh.Count || moreStored;
        // Set before the push goes out: the device's ack of this batch must find it.
        if (hasMore) _offlineCursors[connection] = (fresh[written.Value - 1].MessageId, before);
        else session.OfflineFinalSent = true;
        connection.Send(frame);
        Counters.AddOfflinePushed(written.Value);
        LogOfflinePushed(_logger, me, written.Value, hasMore);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "user {UserId}: {Count} offline message(s) pushed (more waiting: {HasMore})")]
    private static partial void LogOfflinePushed(ILogger logger, uint userId, int count, bool hasMore);

    [LoggerMessage(Level = LogLevel.Warning, Message = "user {UserId}: offline messages not pushed, they wait for the next login: {Error}")]
    private static partial void LogOfflineFailed(ILogger logger, uint userId, string error);
}
