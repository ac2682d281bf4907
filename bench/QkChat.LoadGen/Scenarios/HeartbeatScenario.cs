using System.Diagnostics;
using QkChat.Client;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// Every connection runs a closed loop of `heartbeat` requests (allowed before login, protocol.md §4), with
/// --pipeline requests in flight each. Loops start as soon as their connection opens (warming the server during the
/// ramp) but only round trips completing inside the measured window are counted and timed.
/// </summary>
public sealed class HeartbeatScenario : IScenario
{
    /// <summary>The scenario's name on qkchat-loadgen's command line and in its results. It is spelled like the action
    /// it times but is a word of this tool, not of the protocol (an exception in WireNameLiteralTests).</summary>
    public const string Name = "heartbeat";

    /// <summary>Error code for a request still waiting when the run's deadline closed its connection.</summary>
    public const string Unanswered = "CLIENT_UNANSWERED_AT_DEADLINE";

    private readonly List<Task> _loops = [];
    private ConnectionSet? _connections;

    public bool AllAttempted => _connections?.AllAttempted.IsCompleted ?? false;

    public async Task RunAsync(ScenarioContext context)
    {
        await using var connections = _connections = new ConnectionSet(context);
        int pipeline = context.Options.Pipeline;
        await connections.StartOpeningAsync((client, _) =>
        {
            lock (_loops)
                for (int k = 0; k < pipeline; k++) _loops.Add(LoopAsync(client, context));
        }).ConfigureAwait(false);

        await Waits.UntilAsync(context.Clock.WindowEndTimestamp, context.HardStop).ConfigureAwait(false);
        // Loops stop sending at the window's end; the requests still in flight get until the deadline.
        Task[] loops;
        lock (_loops) loops = [.. _loops];
        await Waits.ForAsync(Task.WhenAll(loops), context.Clock.DeadlineTimestamp, context.HardStop).ConfigureAwait(false);
    }

    private static async Task LoopAsync(ChatClient client, ScenarioContext context)
    {
        RunClock clock = context.Clock;
        TimeSpan timeout = context.RequestTimeout;
        while (client.IsConnected && !clock.WindowOver)
        {
            long sent = Stopwatch.GetTimestamp();
            Envelope response;
            try
            {
                response = await client.RequestAsync(Actions.Heartbeat, null, timeout, context.HardStop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                context.Stats.Error("CLIENT_TIMEOUT");
                continue;
            }
            catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
            {
                return;   // the server closed it: counted once, as a drop, by the connection set's watcher
            }
            catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
            {
                // Still unanswered when the deadline closed everything: the server stalled, which is an error.
                context.Stats.Error(Unanswered);
                return;
            }
            catch (Exception e)
            {
                context.Stats.Error("CLIENT_" + e.GetType().Name);
                return;
            }
            long received = Stopwatch.GetTimestamp();
            if (response.Success == true)
                context.Stats.RoundTrip((received - sent) * 1_000_000 / Stopwatch.Frequency, clock.InWindow(sent), sent);
            else
                context.Stats.Error(response.Code ?? "NO_CODE");
        }
    }
}
