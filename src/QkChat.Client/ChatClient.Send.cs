using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Client;

public sealed partial class ChatClient
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _pendingLock = new();

    // Created on the first request: a client that only listens (or an idle load-generator connection) pays nothing.
    private Dictionary<string, TaskCompletionSource<Envelope>>? _pending;
    private int _pendingCount;
    private long _lastRequestId;
    private long _lastWrite;   // Stopwatch timestamp; set when the connection opens and at every write

    /// <summary>When this client last began writing to the connection (a Stopwatch timestamp; the connection's opening
    /// before the first write). qkchatd closes a logged-in connection that sends nothing for server.idle_timeout_s
    /// (protocol.md §4), so a caller that keeps connections alive heartbeats the ones silent for long enough.</summary>
    public long LastWriteTimestamp => Volatile.Read(ref _lastWrite);

    /// <summary>Requests sent and not yet answered, timed out or cancelled.</summary>
    public int PendingRequests => Volatile.Read(ref _pendingCount);

    /// <summary>
    /// Sends {"action": action, "request_id": auto, ...fields} and returns the response with the same request_id
    /// (success or not: check <see cref="Envelope.Success"/> and <see cref="Envelope.Code"/>). A response arriving
    /// after the timeout finds no waiter and goes to the inbox like any unmatched envelope.
    /// </summary>
    /// <param name="writeFields">Writes extra members into the request object (property names and values).</param>
    /// <param name="timeout">Wait for the response; null means <see cref="ChatClientOptions.RequestTimeout"/>,
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as the connection lives.</param>
    /// <exception cref="TimeoutException">No response within the timeout.</exception>
    /// <exception cref="ChatConnectionClosedException">The connection ended before the response came.</exception>
    public async Task<Envelope> RequestAsync(string action, Action<Utf8JsonWriter>? writeFields = null,
        TimeSpan? timeout = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(action);
        string requestId = Interlocked.Increment(ref _lastRequestId).ToString(CultureInfo.InvariantCulture);
        (byte[] frame, int length) = FrameBuilder.BuildRequest(action, requestId, writeFields);
        var waiter = new TaskCompletionSource<Envelope>(_options.InlineCompletions
            ? TaskCreationOptions.None
            : TaskCreationOptions.RunContinuationsAsynchronously);
        AddPending(requestId, waiter);
        TimeSpan wait = timeout ?? _options.RequestTimeout;
        try
        {
            try
            {
                await SendCoreAsync(frame.AsMemory(0, length), ct).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
            return await waiter.Task.WaitAsync(wait, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"no response to '{action}' (request_id {requestId}) within {wait.TotalMilliseconds:0} ms");
        }
        finally
        {
            RemovePending(requestId);
        }
    }

    /// <summary>
    /// Sends {"action": action, "request_id": auto, ...the fields of <paramref name="body"/>} and returns the response,
    /// like <see cref="RequestAsync(string, Action{Utf8JsonWriter}?, TimeSpan?, CancellationToken)"/>. The body is
    /// written by its source-generated type information; unset (null) fields are left out.
    /// </summary>
    public Task<Envelope> RequestAsync<TBody>(string action, TBody body, TimeSpan? timeout = null, CancellationToken ct = default)
        where TBody : class, IRequestBody<TBody>
    {
        ArgumentNullException.ThrowIfNull(body);
        // The record becomes an object first so its members can join "action" and "request_id" in one object; a
        // client request is small, and the load generator's hot loops write their fields directly instead.
        JsonElement fields = JsonSerializer.SerializeToElement(body, TBody.Json);
        return RequestAsync(action, w =>
        {
            foreach (JsonProperty field in fields.EnumerateObject()) field.WriteTo(w);
        }, timeout, ct);
    }

    /// <summary>Sends <paramref name="body"/> as one frame (header added), whatever it holds: nothing waits for an answer,
    /// which arrives through <see cref="ReceiveAnyAsync"/> unless its request_id matches a pending request.</summary>
    public async Task SendFrameAsync(ReadOnlyMemory<byte> body, CancellationToken ct = default)
    {
        (byte[] frame, int length) = FrameBuilder.Frame(body.Span);
        try
        {
            await SendCoreAsync(frame.AsMemory(0, length), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> unframed, in one write: partial headers, bogus lengths, garbage.</summary>
    public Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default) => SendCoreAsync(bytes, ct);

    /// <summary>
    /// One writer at a time, so concurrent frames never interleave. Cancellation applies to waiting for the turn
    /// only: a write cut short would leave half a frame on the wire and desynchronise the stream.
    /// </summary>
    private async Task SendCoreAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        ThrowIfClosed();
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            Volatile.Write(ref _lastWrite, System.Diagnostics.Stopwatch.GetTimestamp());
            await _stream.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Close(new ChatCloseInfo(ChatCloseReason.Reset, "send failed", e));
            throw new ChatConnectionClosedException(_closeInfo!);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void AddPending(string requestId, TaskCompletionSource<Envelope> waiter)
    {
        lock (_pendingLock)
        {
            // Checked under the lock that Close drains with: a request either sees the close or gets drained by it.
            ThrowIfClosed();
            (_pending ??= new Dictionary<string, TaskCompletionSource<Envelope>>(StringComparer.Ordinal)).Add(requestId, waiter);
            _pendingCount++;
        }
    }

    private void RemovePending(string requestId)
    {
        lock (_pendingLock)
        {
            if (_pending is not null && _pending.Remove(requestId)) _pendingCount--;
        }
    }

    private bool TryTakePending(string requestId, out TaskCompletionSource<Envelope> waiter)
    {
        lock (_pendingLock)
        {
            if (_pending is not null && _pending.Remove(requestId, out waiter!))
            {
                _pendingCount--;
                return true;
            }
        }
        waiter = null!;
        return false;
    }

    private void FailPending(ChatCloseInfo info)
    {
        TaskCompletionSource<Envelope>[] waiters;
        lock (_pendingLock)
        {
            if (_pending is null || _pending.Count == 0) return;
            waiters = [.. _pending.Values];
            _pending.Clear();
            _pendingCount = 0;
        }
        var error = new ChatConnectionClosedException(info);
        foreach (var waiter in waiters) waiter.TrySetException(error);
    }
}
