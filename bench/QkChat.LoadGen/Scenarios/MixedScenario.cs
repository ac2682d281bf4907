using System.Diagnostics;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// mixed: the chat pairs as a client app would use them. Each step of a user, paced like chat's sends (--rate steps
/// per second, --pipeline in flight), draws one action from the --mix weights: send_message to the partner,
/// mark_read of what the partner sent so far, a page of the conversation's history, the chat list, a presence
/// change, or a heartbeat. Every received message is acknowledged as in chat, so acks follow the sends, and the
/// delivery checks (once, in order, nothing lost) hold here too. Each action's latency and errors are reported
/// on their own; the headline latency is every drawn request's.
/// </summary>
public sealed class MixedScenario : PairScenario
{
    /// <summary>A history page and a chat list the size a phone screen shows; protocol.md allows up to 100.</summary>
    public const int PageSize = 20;

    /// <summary>The statuses a person switches between (invisible is rare and looks like offline to friends).</summary>
    private static readonly string[] Statuses = ["online", "busy", "away"];

    protected override Task UserLoopAsync(ChatUser user)
    {
        MixWeights mix = Context.Options.Mix;
        return user.PacedLoopAsync(() => StepAsync(user, mix.Pick(Random.Shared.Next(mix.Total))));
    }

    private Task StepAsync(ChatUser user, int pick)
    {
        uint partner = user.Partner!.UserId;
        switch (MixWeights.Names[pick].Action)
        {
            case Actions.MarkRead:
                long upTo = user.Inbound.LastArrived;
                // Nothing from the partner yet: a client has nothing to mark, it writes instead.
                if (upTo == 0) return user.SendAsync();
                return RequestAsync(user, Actions.MarkRead, w =>
                {
                    w.WriteNumber("chat_user_id", partner);
                    w.WriteNumber("up_to_message_id", upTo);
                });
            case Actions.GetChatHistory:
                return RequestAsync(user, Actions.GetChatHistory, w =>
                {
                    w.WriteNumber("chat_user_id", partner);
                    w.WriteNumber("limit", PageSize);
                });
            case Actions.GetConversations:
                return RequestAsync(user, Actions.GetConversations, w => w.WriteNumber("limit", PageSize));
            case Actions.StatusUpdate:
                string status = Statuses[Random.Shared.Next(Statuses.Length)];
                return RequestAsync(user, Actions.StatusUpdate, w => w.WriteString("status", status));
            case Actions.Heartbeat:
                return RequestAsync(user, Actions.Heartbeat, null);
            default:
                return user.SendAsync();
        }
    }

    /// <summary>One request of the blend: timed into the headline histogram and its action's figures.</summary>
    private async Task RequestAsync(ChatUser user, string action, Action<Utf8JsonWriter>? fields)
    {
        ScenarioContext context = Context;
        long started = Stopwatch.GetTimestamp();
        string? error = null;
        try
        {
            Envelope r = await user.Client.RequestAsync(action, fields, context.RequestTimeout, context.HardStop).ConfigureAwait(false);
            long now = Stopwatch.GetTimestamp();
            if (r.Success == true) context.Stats.RoundTrip((now - started) * 1_000_000 / Stopwatch.Frequency, context.Clock.InWindow(started), started);
            else error = r.Code ?? "NO_CODE";
        }
        catch (TimeoutException)
        {
            error = "CLIENT_TIMEOUT";
        }
        catch (ChatConnectionClosedException e) when (e.Info.Reason != ChatCloseReason.LocalClose)
        {
            return;   // the server closed the connection: counted once, as a drop
        }
        catch (Exception e) when (e is ChatConnectionClosedException or OperationCanceledException)
        {
            error = HeartbeatScenario.Unanswered;
        }
        if (error is not null) context.Stats.Error(action.ToUpperInvariant() + "_" + error);
        user.RecordAction(action, started, error);
    }
}
