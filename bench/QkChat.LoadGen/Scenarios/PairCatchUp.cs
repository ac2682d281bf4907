using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using QkChat.Client;
using QkChat.LoadGen.Run;
using QkChat.Protocol;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The pair scenario's end of run for receivers that still miss messages answered `sent` (docs/loadgen.md "chat",
/// late): each one whose connection dropped reconnects and logs in again, and every one reads its messages with
/// sync_messages from just below the smallest id it misses until it has passed the largest (500 a page). An id the
/// server returns then was stored but not pushed by the end: late, not lost (<see cref="DeliveryLedger.LateFound"/>).
/// What it does not return stays lost. It runs in the time kept before the deadline (<see cref="From"/>); a receiver
/// whose catch-up fails or is cut by the deadline is counted (<see cref="Unfinished"/>) and keeps its misses as lost.
/// </summary>
public sealed class PairCatchUp(ScenarioContext context)
{
    /// <summary>sync_messages' largest page (protocol.md §5: limit 1-500); message_ack takes as many ids.</summary>
    private const int SyncPage = 500;

    /// <summary>The most kept for the catch-up: 10 s, the request timeout, so a reconnect, a login behind a queue of
    /// password hashes and a sync page as slow as the slowest answer still fit; half of what the run has after its
    /// window when that is less. chat and mixed keep a tail after the grace (RunClock.Of, PairAckWait.TailSeconds: 5 s
    /// with the default 10 s --request-timeout), so today that is the tail: the whole 5 s grace for the answers and
    /// pushes still coming, then 5 s for the catch-up and, beside it, the last acknowledgements' answers.</summary>
    public static readonly TimeSpan MaxReserve = TimeSpan.FromSeconds(10);

    private long _unfinished;

    /// <summary>Receivers still missing messages whose catch-up did not finish.</summary>
    public long Unfinished => Interlocked.Read(ref _unfinished);

    /// <summary>When the catch-up starts on <paramref name="clock"/>: the wait for pushes ends there at the latest.</summary>
    public static long From(RunClock clock)
    {
        double after = RunClock.Grace.TotalSeconds + clock.DrainSeconds;
        return clock.DeadlineTimestamp - RunClock.ToTicks(Math.Min(MaxReserve.TotalSeconds, after / 2));
    }

    /// <summary>Catches up every user of <paramref name="users"/> that still awaits messages, all at once.</summary>
    public Task RunAsync(IEnumerable<ChatUser?> users) =>
        Task.WhenAll(users.OfType<ChatUser>().Where(u => u.Inbound.Awaiting > 0).Select(CatchUpAsync));

    private async Task CatchUpAsync(ChatUser user)
    {
        user.Inbound.Seal();
        bool finished = false;
        ChatClient? fresh = null;
        try
        {
            ChatClient client = user.Client;
            if (!client.IsConnected)
            {
                int local = user.Account - context.Share.First;
                fresh = await context.ConnectAsync(context.EndpointFor(local), context.ClientOptionsFor(local), context.HardStop)
                    .ConfigureAwait(false);
                if (!await user.LoginAsync(fresh, context.Clock.DeadlineTimestamp, catchUp: true).ConfigureAwait(false)) return;
                client = fresh;
            }
            finished = await SyncAsync(client, user).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or ChatConnectionClosedException or OperationCanceledException
                                      or SocketException or IOException or AuthenticationException)
        {
            // Counted below: what the receiver still misses stays lost.
        }
        finally
        {
            if (!finished) Interlocked.Increment(ref _unfinished);
            if (fresh is not null) await fresh.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads the receiver's messages from below its first miss past its last; true when the read completed.
    /// The late ones are then acknowledged, so that the server stops offering them (a later run would see them as stale).</summary>
    private async Task<bool> SyncAsync(ChatClient client, ChatUser user)
    {
        long after = user.Inbound.FirstMissing - 1, last = user.Inbound.LastMissing;
        List<long> late = [];
        while (after < last)
        {
            Envelope page = await client.SyncMessagesAsync(after, SyncPage, context.HardStop).ConfigureAwait(false);
            if (page.Success != true || page.Data is not { } data || !data.TryGetProperty("messages", out JsonElement list)
                || list.ValueKind != JsonValueKind.Array) return false;
            long before = after;
            foreach (JsonElement m in list.EnumerateArray())
            {
                if (!m.TryGetProperty("message_id", out JsonElement idElement) || !idElement.TryGetInt64(out long id)) return false;
                after = Math.Max(after, id);
                bool toMe = m.TryGetProperty("receiver_id", out JsonElement r) && r.TryGetInt64(out long receiver) && receiver == user.UserId;
                if (toMe && user.Inbound.LateFound(id)) late.Add(id);
            }
            bool more = data.TryGetProperty("has_more", out JsonElement hasMore) && hasMore.ValueKind == JsonValueKind.True;
            if (!more || after == before) break;
        }
        for (int i = 0; i < late.Count; i += SyncPage)
            await client.MessageAckAsync([.. late.Skip(i).Take(SyncPage)], context.HardStop).ConfigureAwait(false);
        return true;
    }
}
