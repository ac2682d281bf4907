using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using QkChat.Core.Dispatch;
using QkChat.Transport;

namespace QkChat.Core.Messaging;

public sealed partial class MessagingService
{
    // Connection -> id of the last offline message pushed, while more wait. The next batch goes out when the
    // device acks: the queue drains at the client's pace and never floods its send queue (a long absence can
    // leave thousands of messages; pushing them all at once would trip the slow-consumer cap).
    private readonly ConcurrentDictionary<Connection, long> _offlineCursors = new();

    /// <summary>At login: the first batch of messages that waited (still `sent`), oldest first.</summary>
    private void PushOfflineAtLogin(Connection connection, Session session)
    {
        uint me = session.UserId;
        _ = Task.Run(() => PushOfflineBatchAsync(connection, me, afterMessageId: 0));
    }

    private async Task ContinueOfflineAsync(Connection connection, uint me)
    {
        if (_offlineCursors.TryRemove(connection, out long after)) await PushOfflineBatchAsync(connection, me, after);
    }

    private async Task PushOfflineBatchAsync(Connection connection, uint me, long afterMessageId)
    {
        IReadOnlyList<MessageRecord> batch;
        try
        {
            batch = await _store.UndeliveredAsync(me, afterMessageId, MessagingOptions.OfflineBatch + 1, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Nothing is lost: the messages stay `sent` and go out at the next login (or by sync_messages).
            LogOfflineFailed(_logger, me, e.Message);
            return;
        }
        if (batch.Count == 0 || connection.IsClosed) return;
        var written = new StrongBox<int>();
        var frame = Dispatcher.CreatePush("offline_messages", (batch, written), static (w, s) =>
            s.written.Value = MessageJson.WritePage(w, s.batch, MessagingOptions.OfflineBatch));
        bool hasMore = written.Value < batch.Count;
        // Set before the push goes out: the device's ack of this batch must find it.
        if (hasMore) _offlineCursors[connection] = batch[written.Value - 1].MessageId;
        connection.PostSend(frame);
        LogOfflinePushed(_logger, me, written.Value, hasMore);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Debug,
        Message = "user {UserId}: {Count} offline message(s) pushed (more waiting: {HasMore})")]
    private static partial void LogOfflinePushed(Microsoft.Extensions.Logging.ILogger logger, uint userId, int count, bool hasMore);

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "user {UserId}: offline messages not pushed, they wait for the next login: {Error}")]
    private static partial void LogOfflineFailed(Microsoft.Extensions.Logging.ILogger logger, uint userId, string error);
}
