using System.Net.Sockets;
using System.Security.Authentication;
using QkChat.Client;
using QkChat.LoadGen.Options;

namespace QkChat.LoadGen.Run;

/// <summary>
/// Opens this process's connections, paced evenly over the ramp with a bounded number of connects in flight, and
/// closes them all at the end. Watches each for an unexpected close (counted as dropped). Shared by every scenario.
/// For the scenarios that log in (<see cref="LoadGenOptions.KeepsAlive"/>) one <see cref="Keepalive"/> heartbeats the
/// connections that stay silent, from the first open until the set closes.
/// </summary>
public sealed class ConnectionSet(ScenarioContext context) : IAsyncDisposable
{
    private readonly ChatClient?[] _clients = new ChatClient?[context.Share.Connections];
    private readonly TaskCompletionSource _allAttempted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _keepaliveStop = CancellationTokenSource.CreateLinkedTokenSource(context.HardStop);
    private Task _keepalive = Task.CompletedTask;
    private int _attempted;
    private bool _closing;   // guarded by lock (_clients); read unlocked only by WatchAsync, where a stale value is harmless

    /// <summary>Completes once every connection has been opened or has failed.</summary>
    public Task AllAttempted => _allAttempted.Task;

    public int OpenCount => _clients.Count(c => c is { IsConnected: true });

    /// <summary>
    /// Opens the connections; <paramref name="onOpened"/> starts whatever the scenario does with each (it must not
    /// block). Returns when the last connect has been started; <see cref="AllAttempted"/> says when all finished.
    /// </summary>
    public async Task StartOpeningAsync(Action<ChatClient, int> onOpened)
    {
        int count = _clients.Length;
        if (count == 0)
        {
            _allAttempted.TrySetResult();
            return;
        }
        if (context.Options.KeepsAlive)
            _keepalive = new Keepalive(_clients, context.Options.KeepaliveSeconds, context.RequestTimeout, context.Stats, _keepaliveStop.Token)
                .RunAsync(_keepaliveStop.Token);
        var gate = new SemaphoreSlim(context.Options.ConnectConcurrency);
        long rampTicks = context.Clock.RampEndTimestamp - context.Clock.StartTimestamp;
        int index = 0;
        try
        {
            for (; index < count; index++)
            {
                long due = context.Clock.StartTimestamp + rampTicks * index / count;
                await RunClock.DelayUntil(due, context.HardStop).ConfigureAwait(false);
                await gate.WaitAsync(context.HardStop).ConfigureAwait(false);
                _ = OpenOneAsync(index, gate, onOpened);
            }
        }
        catch (OperationCanceledException)
        {
            // The deadline came before the ramp finished: what was never tried counts as failed.
            for (; index < count; index++) Attempted(failure: "NotAttempted");
        }
    }

    private async Task OpenOneAsync(int index, SemaphoreSlim gate, Action<ChatClient, int> onOpened)
    {
        try
        {
            NodeEndpoint node = context.EndpointFor(index);
            ChatClient client = await context.ConnectAsync(node, context.ClientOptionsFor(index), context.HardStop)
                .ConfigureAwait(false);
            bool late;
            lock (_clients)
            {
                late = _closing;
                if (!late) _clients[index] = client;
            }
            if (late)
            {
                // Connected just as the set was being closed: close it too rather than leak it.
                await client.DisposeAsync().ConfigureAwait(false);
                Attempted(failure: "Cancelled");
                return;
            }
            context.Stats.ConnectionOpened();
            _ = WatchAsync(client);
            onOpened(client, index);
            Attempted(failure: null);
        }
        catch (Exception e)
        {
            Attempted(failure: Classify(e));
        }
        finally
        {
            gate.Release();
        }
    }

    private void Attempted(string? failure)
    {
        if (failure is not null) context.Stats.ConnectionFailed(failure);
        if (Interlocked.Increment(ref _attempted) == _clients.Length) _allAttempted.TrySetResult();
    }

    private async Task WatchAsync(ChatClient client)
    {
        ChatCloseInfo info = await client.Closed.ConfigureAwait(false);
        if (!Volatile.Read(ref _closing) && info.Reason != ChatCloseReason.LocalClose) context.Stats.ConnectionDropped(info.Reason.ToString());
    }

    private static string Classify(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode.ToString(),
        TimeoutException => "Timeout",
        AuthenticationException => "TlsHandshake",
        OperationCanceledException => "Cancelled",
        _ => e.GetType().Name,
    };

    /// <summary>Closes every connection at once; closes are local, so none counts as dropped.</summary>
    public async ValueTask DisposeAsync()
    {
        await _keepaliveStop.CancelAsync().ConfigureAwait(false);
        await _keepalive.ConfigureAwait(false);
        _keepaliveStop.Dispose();
        var closing = new List<Task>(_clients.Length);
        lock (_clients)
        {
            _closing = true;
            foreach (ChatClient? client in _clients)
                if (client is not null) closing.Add(client.DisposeAsync().AsTask());
        }
        await Task.WhenAll(closing).ConfigureAwait(false);
    }
}
