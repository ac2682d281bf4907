using Microsoft.Extensions.Logging;

namespace QkChat.Core.Messaging;

/// <summary>A message waiting for the writer; told once whether it was stored.</summary>
public abstract class QueuedMessage(NewMessage message)
{
    public NewMessage Message { get; } = message;

    /// <summary>Its batch is durable (or it repeated a stored client_msg_id: see the outcome).</summary>
    public abstract void Stored(StoreOutcome outcome);

    /// <summary>Its batch was not stored: <paramref name="backendDown"/> tells UNAVAILABLE from INTERNAL.</summary>
    public abstract void Failed(bool backendDown);
}

/// <summary>
/// The write-behind batcher of architecture.md §2: send_message queues here and one writer stores whatever has
/// gathered as one multi-row INSERT in one transaction (group commit: while a batch commits the next one fills),
/// then tells each message. Nobody is answered before their batch is durable, and a failed batch answers each of
/// its messages, so nothing is acknowledged that is not stored.
/// One writer keeps commits in id order (a client that saw message N never misses an earlier one in a sync);
/// batches of up to 500 rows keep a statement well under max_allowed_packet (500 x 4,000 chars x 4 bytes = 8 MB
/// worst case, the 16 MB default) while amortising the commit over hundreds of messages.
/// </summary>
public sealed partial class MessageWriter : IAsyncDisposable
{
    private readonly IMessageStore _store;
    private readonly MessagingOptions _options;
    private readonly ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentQueue<QueuedMessage> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Task _loop;
    private int _signaled, _queued;
    private volatile bool _stopping;

    public MessageWriter(IMessageStore store, MessagingOptions options, ILogger logger)
    {
        _store = store;
        _options = options;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public long Batches { get; private set; }
    public long Written { get; private set; }
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Queues a message; false when the queue is full (the caller answers SERVER_BUSY) or the writer stopped.</summary>
    public bool TryEnqueue(QueuedMessage message)
    {
        if (_stopping || Interlocked.Increment(ref _queued) > _options.QueueCapacity)
        {
            if (!_stopping) Interlocked.Decrement(ref _queued);
            return false;
        }
        _queue.Enqueue(message);
        if (Interlocked.Exchange(ref _signaled, 1) == 0) _signal.Release();
        return true;
    }

    private async Task RunAsync()
    {
        var batch = new List<QueuedMessage>(_options.BatchSize);
        var rows = new List<NewMessage>(_options.BatchSize);
        while (true)
        {
            await _signal.WaitAsync();
            if (_options.BatchDelay > TimeSpan.Zero && _queue.Count < _options.BatchSize && !_stopping)
                await Task.Delay(_options.BatchDelay);
            // Cleared before draining: a message queued from here on signals again, so none is left behind.
            Volatile.Write(ref _signaled, 0);
            while (!_queue.IsEmpty)
            {
                while (batch.Count < _options.BatchSize && _queue.TryDequeue(out var item)) batch.Add(item);
                Interlocked.Add(ref _queued, -batch.Count);
                await WriteAsync(batch, rows);
                batch.Clear();
                rows.Clear();
            }
            if (_stopping && _queue.IsEmpty) return;
        }
    }

    private async Task WriteAsync(List<QueuedMessage> batch, List<NewMessage> rows)
    {
        foreach (var item in batch) rows.Add(item.Message);
        StoreOutcome[] outcomes;
        try
        {
            outcomes = await _store.InsertBatchAsync(rows, CancellationToken.None);
        }
        catch (Exception e)
        {
            bool down = e is BackendUnavailableException;
            if (down) LogBatchUnavailable(_logger, batch.Count, e.Message);
            else LogBatchFailed(_logger, batch.Count, e);
            foreach (var item in batch) Tell(item, i => i.Failed(down));
            return;
        }
        Batches++;
        Written += batch.Count;
        for (int i = 0; i < batch.Count; i++)
        {
            var outcome = outcomes[i];
            Tell(batch[i], item => item.Stored(outcome));
        }
    }

    private void Tell(QueuedMessage item, Action<QueuedMessage> tell)
    {
        try
        {
            tell(item);
        }
        catch (Exception e)
        {
            // One message's delivery must not cost the rest of the batch its answer.
            LogCallbackFailed(_logger, item.Message.MessageId, e);
        }
    }

    /// <summary>Stops taking messages and writes what is queued (shutdown: after the connections closed).</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _signal.Release();
        await _loop;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "message batch of {Count} not stored, MariaDB unavailable: {Error}; senders get UNAVAILABLE")]
    private static partial void LogBatchUnavailable(ILogger logger, int count, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "message batch of {Count} not stored; senders get INTERNAL")]
    private static partial void LogBatchFailed(ILogger logger, int count, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "answering stored message {MessageId} failed")]
    private static partial void LogCallbackFailed(ILogger logger, long messageId, Exception error);
}
