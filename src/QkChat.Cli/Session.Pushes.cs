using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.Cli;

/// <summary>The session's push side: printing pushes, acknowledging messages, learning names, counting arrivals for /wait.</summary>
internal sealed partial class Session
{
    /// <summary>Prints every push as it arrives, acknowledges incoming messages, and tells when the connection ends.</summary>
    private async Task PushLoopAsync(Connection conn)
    {
        ChatClient client = conn.Client;
        try
        {
            await foreach (Envelope envelope in client.ReadInboxAsync(conn.Stop.Token).ConfigureAwait(false))
            {
                if (envelope.Push) await LearnNamesAsync(conn, envelope).ConfigureAwait(false);
                if (_commandPrinting is { } printing)
                    await printing.Task.WaitAsync(CommandPrintWait, conn.Stop.Token).ContinueWith(static _ => { },
                        CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                _out.Lines(_format.Push(envelope));
                if (envelope.Push) await AfterPushAsync(client, envelope).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;   // this side closed it
        }
        if (client.CloseInfo is { Reason: not ChatCloseReason.LocalClose } info && !conn.ExpectClose)
            _out.Line(_format.Note($"disconnected ({info.Detail}); the next command connects again"));
    }

    /// <summary>
    /// A push about someone whose name this client has not seen yet (after a fresh start, offline messages and
    /// presence come before any list was shown) fetches the friend list once per such user: only friends send
    /// messages and presence, so their names are there. Group members need not be friends: a group push asks the
    /// group's member list first, then the friend list for whoever is not in it (a member who has just left).
    /// </summary>
    private async Task LearnNamesAsync(Connection conn, Envelope push)
    {
        JsonElement d = push.Data ?? Json.EmptyObject;
        IEnumerable<long?> ids = push.Action switch
        {
            PushNames.Message => [d.Long("sender_id"), d.Long("receiver_id")],
            PushNames.OfflineMessages => d.Items("messages").Select(m => m.Long("sender_id")),
            PushNames.Presence or PushNames.FriendDeleted => [d.Long("user_id")],
            PushNames.MessageStatus => [d.Long("peer_id")],
            PushNames.MessageRecalled or PushNames.GroupMessageRecalled => [d.Long("by")],
            PushNames.GroupMessage => [d.Long("sender_id")],
            PushNames.GroupEvent => [d.Long("actor_id"), .. UserIds(d)],
            _ => [],
        };
        var unknown = ids.OfType<long>().Where(id => id != _format.Me && !_names.Knows(id)).Where(conn.LookedUp.Add).ToList();
        if (unknown.Count == 0) return;
        try
        {
            if (push.Action is PushNames.GroupMessage or PushNames.GroupEvent or PushNames.GroupMessageRecalled && d.Long("group_id") is { } group)
            {
                await LearnMemberNamesAsync(conn.Client, group, CancellationToken.None).ConfigureAwait(false);
                if (unknown.All(_names.Knows)) return;
            }
            Envelope answer = await conn.Client.GetFriendListAsync().ConfigureAwait(false);
            foreach (JsonElement f in (answer.Data ?? Json.EmptyObject).Items("friends"))
                _names.Remember(f.Long("user_id"), f.Str("username"));
        }
        catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException)
        {
            // Then the push shows ids instead of names.
        }
    }

    private async Task AfterPushAsync(ChatClient client, Envelope push)
    {
        JsonElement d = push.Data ?? Json.EmptyObject;
        List<JsonElement> incoming = push.Action switch
        {
            PushNames.Message => [d],
            PushNames.OfflineMessages => [.. d.Items("messages")],
            _ => [],
        };
        var ids = new List<long>();
        foreach (JsonElement m in incoming)
        {
            NoteNewest(m);
            if (m.Long("sender_id") != _format.Me && m.Long("message_id") is { } id) ids.Add(id);
        }
        if (ids.Count > 0)
        {
            try
            {
                Envelope ack = await client.MessageAckAsync([.. ids]).ConfigureAwait(false);
                if (ack.Success != true) _out.Line(_format.Note("could not acknowledge: " + PushFormatter.Failure(ack)));
            }
            catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException)
            {
                // The connection is going away; the server keeps unacknowledged messages for the next login.
            }
        }
        _arrivals.Arrived(push.Action ?? "");
    }

    /// <summary>
    /// Pushes counted for /wait: a push that arrived before its /wait still counts, and each push satisfies one /wait,
    /// so a script's "send, then /wait message_status" works whichever came first.
    /// </summary>
    private sealed class PushArrivals
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, int> _unclaimed = [];
        private readonly List<(string Name, TaskCompletionSource Done)> _waiters = [];

        public void Arrived(string name)
        {
            lock (_lock)
            {
                int i = _waiters.FindIndex(w => w.Name == name);
                if (i >= 0)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
                else
                {
                    _unclaimed[name] = _unclaimed.GetValueOrDefault(name) + 1;
                }
            }
        }

        public async Task<bool> WaitAsync(string name, TimeSpan timeout, CancellationToken ct)
        {
            var waiter = (name, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            lock (_lock)
            {
                if (_unclaimed.GetValueOrDefault(name) > 0)
                {
                    _unclaimed[name]--;
                    return true;
                }
                _waiters.Add(waiter);
            }
            try
            {
                await waiter.Item2.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                lock (_lock) _waiters.Remove(waiter);
                return false;
            }
        }
    }
}
