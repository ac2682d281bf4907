using QkChat.Client;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// Opens N connections and holds them idle for the duration, with an optional heartbeat every H seconds (first one
/// at a random point of the first interval, so they do not all fire together). Measures how many open, fail and
/// drop, and this process's own memory per held connection. The coordinator samples the server around it.
/// </summary>
public sealed class ConnectScenario : IScenario
{
    private readonly List<Task> _heartbeats = [];
    private ConnectionSet? _connections;

    public bool AllAttempted => _connections?.AllAttempted.IsCompleted ?? false;

    public ClientMemory? ClientMemory { get; private set; }

    public async Task RunAsync(ScenarioContext context)
    {
        (long rssBefore, long managedBefore) = OwnMemory();
        await using var connections = _connections = new ConnectionSet(context);
        double interval = context.Options.HeartbeatIntervalSeconds;
        await connections.StartOpeningAsync((client, _) =>
        {
            if (interval <= 0) return;
            lock (_heartbeats) _heartbeats.Add(HeartbeatEveryAsync(client, interval, context));
        }).ConfigureAwait(false);

        await Waits.ForAsync(connections.AllAttempted, context.Clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
        (long rssOpen, long managedOpen) = OwnMemory();
        long open = connections.OpenCount;
        ClientMemory = new ClientMemory
        {
            Connections = open,
            RssDeltaBytes = rssOpen - rssBefore,
            ManagedDeltaBytes = managedOpen - managedBefore,
        };

        await Waits.UntilAsync(context.Clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
        Task[] heartbeats;
        lock (_heartbeats) heartbeats = [.. _heartbeats];
        await Waits.ForAsync(Task.WhenAll(heartbeats), context.Clock.DeadlineTimestamp, context.HardStop).ConfigureAwait(false);
    }

    private static async Task HeartbeatEveryAsync(ChatClient client, double intervalSeconds, ScenarioContext context)
    {
        RunClock clock = context.Clock;
        double delay = intervalSeconds * Random.Shared.NextDouble();
        while (true)
        {
            long due = System.Diagnostics.Stopwatch.GetTimestamp() + RunClock.ToTicks(delay);
            if (due >= clock.WindowEndTimestamp) return;
            bool asking = false;
            try
            {
                await RunClock.DelayUntil(due, context.HardStop).ConfigureAwait(false);
                asking = true;
                Envelope response = await client.RequestAsync(Actions.Heartbeat, null, context.RequestTimeout, context.HardStop)
                    .ConfigureAwait(false);
                if (response.Success != true) context.Stats.Error(response.Code ?? "NO_CODE");
            }
            catch (TimeoutException)
            {
                context.Stats.Error("CLIENT_TIMEOUT");
            }
            catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
            {
                return;   // the connection set's watcher counts the drop
            }
            catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
            {
                // The deadline (or Ctrl-C) ended the run: an unanswered heartbeat is an error, a pending delay is not.
                if (asking) context.Stats.Error(HeartbeatScenario.Unanswered);
                return;
            }
            delay = intervalSeconds;
        }
    }

    /// <summary>Resident set (what the kernel charges) and live managed heap after a full collection.</summary>
    private static (long Rss, long Managed) OwnMemory()
    {
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        long rss = ProcSampler.Sample(null, "self", 0)?.RssBytes ?? 0;
        return (rss, managed);
    }
}
