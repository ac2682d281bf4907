using System.Collections.Concurrent;
using MySqlConnector;
using QkChat.Client;
using QkChat.Protocol;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Cluster;

/// <summary>
/// A chat run over a <see cref="ClusterKit"/> deployment for the failure tests (issue 19 point 4): users in friend pairs,
/// each on a node the test chooses, each sending its friend a stream of messages with a client_msg_id and reading every
/// push as a client does (acking `message` pushes and `offline_messages` batches). When a connection ends, its sender
/// waits for the test to reconnect the user (<see cref="ReconnectAsync"/>) and resends its unanswered send with the same
/// client_msg_id. <see cref="CatchUpAsync"/> is a client's sync after a disruption: `sync_messages` from the last id it had
/// from its friend before it. <see cref="VerifyAsync"/> asserts what protocol.md and docs/messaging.md promise.
/// </summary>
internal sealed class ClusterChatRun
{
    /// <summary>One send per user per tick: 28 users make ~280 sends/s at most, a stream the loaded 2-core box keeps up with.</summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(100);

    private readonly ClusterKit _kit;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _senders = [];

    private ClusterChatRun(ClusterKit kit, List<User> users)
    {
        _kit = kit;
        Users = users;
    }

    public IReadOnlyList<User> Users { get; }

    /// <summary>Creates the users (pairs of friends on the given node indexes), logs them in and starts the streams.</summary>
    public static async Task<ClusterChatRun> StartAsync(ClusterKit kit, IEnumerable<(int NodeA, int NodeB)> pairs)
    {
        var users = new List<User>();
        foreach (var (nodeA, nodeB) in pairs)
        {
            var (a, aName) = await kit.CreateUserAsync();
            var (b, bName) = await kit.CreateUserAsync();
            await kit.MakeFriendsAsync(a, b);
            var ua = new User(a, aName, nodeA);
            var ub = new User(b, bName, nodeB);
            ua.Peer = ub;
            ub.Peer = ua;
            users.Add(ua);
            users.Add(ub);
        }
        var run = new ClusterChatRun(kit, users);
        foreach (var user in users) await run.ConnectAsync(user, user.Node);
        foreach (var user in users) run._senders.Add(Task.Run(() => run.SendLoopAsync(user)));
        return run;
    }

    /// <summary>Acknowledged sends over all users so far.</summary>
    public int Acknowledged => Users.Sum(u => u.AckedCount);

    /// <summary>Marks the moment of a disruption: each user's catch-up later syncs from what it had from its friend now.</summary>
    public void MarkDisruption()
    {
        foreach (var user in Users) user.LastBefore = Interlocked.Read(ref user.LastFromPeer);
    }

    /// <summary>Logs the user in again on <paramref name="node"/> (the sender resumes there) and catches up.</summary>
    public async Task ReconnectAsync(User user, int node)
    {
        await ConnectAsync(user, node);
        await CatchUpAsync(user);
    }

    /// <summary>What a client does after a disruption: `sync_messages` from the last id it had from its friend before it.</summary>
    public async Task CatchUpAsync(User user)
    {
        var client = user.Current!.Client;
        long after = user.LastBefore;
        while (true)
        {
            long from = after;
            var page = await Ok(client.RequestAsync("sync_messages", w => { w.WriteNumber("after_message_id", from); w.WriteNumber("limit", 500); }));
            foreach (var m in page.GetProperty("messages").EnumerateArray())
            {
                after = m.GetProperty("message_id").GetInt64();
                if (m.GetProperty("sender_id").GetUInt32() == user.Peer.Id) user.Synced.TryAdd(after, 0);
            }
            if (!page.GetProperty("has_more").GetBoolean()) break;
        }
    }

    /// <summary>Stops the streams (each finishes the send it has in flight).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_senders).WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task ConnectAsync(User user, int node)
    {
        var client = await _kit.LoginAsync(node, user.Name, user.Id, "phone");
        var connection = new Connection(client, node);
        connection.Reader = Task.Run(() => ReadLoopAsync(user, connection));
        user.Connections.Add(connection);
        user.Node = node;
        var previous = user.Reconnected;
        user.Reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        user.Current = connection;
        previous.TrySetResult();
    }

    private async Task SendLoopAsync(User user)
    {
        using var timer = new PeriodicTimer(Pace);
        int next = 0;
        while (!_stop.IsCancellationRequested)
        {
            var connection = user.Current!;
            var waitForNext = user.Reconnected.Task;
            string clientMsgId = $"u{user.Id}-{next}";
            Envelope answer;
            user.InFlight = true;
            try
            {
                answer = await Send(connection.Client, user.Peer.Id, clientMsgId, clientMsgId);
            }
            catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException or ObjectDisposedException)
            {
                // Unanswered: it may be stored or not. Resent with the same client_msg_id once the test reconnects the user.
                user.InFlight = false;
                user.Unanswered.Add(clientMsgId);
                try
                {
                    await waitForNext.WaitAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            user.InFlight = false;
            if (answer.Code == ErrorCodes.Ok)
            {
                user.Acked.Enqueue((clientMsgId, answer.Data!.Value.GetProperty("message_id").GetInt64(), answer.Message ?? ""));
                next++;
            }
            else if (answer.Code is ErrorCodes.Unavailable or ErrorCodes.ServerBusy or ErrorCodes.Internal)
            {
                // Nothing acknowledged: a client retries the same client_msg_id (each attempt is a round trip).
                user.Retries.Add($"{clientMsgId}: {answer.Code}");
                continue;
            }
            else
            {
                user.Errors.Add($"{clientMsgId}: {answer.Code} {answer.Message}");
                next++;
            }
            try
            {
                await timer.WaitForNextTickAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task ReadLoopAsync(User user, Connection connection)
    {
        await foreach (var envelope in connection.Client.ReadInboxAsync())
        {
            if (!envelope.Push || envelope.Data is not { } data) continue;
            try
            {
                switch (envelope.Action)
                {
                    case PushNames.Message:
                        if (data.GetProperty("sender_id").GetUInt32() != user.Peer.Id) break;
                        long id = data.GetProperty("message_id").GetInt64();
                        connection.Deliver(id, live: true);
                        user.SawFromPeer(id);
                        await AckAsync(user, connection, [id]);
                        break;
                    case "offline_messages":
                        // Every message to this user is from its friend (its only one).
                        var ids = Ids(data.GetProperty("messages")).ToList();
                        foreach (long offline in ids)
                        {
                            connection.Deliver(offline, live: false);
                            user.SawFromPeer(offline);
                        }
                        // The next batch comes when this one is acked (docs/messaging.md "Offline delivery").
                        await AckAsync(user, connection, ids);
                        break;
                    case PushNames.Presence:
                        if (data.GetProperty("user_id").GetUInt32() == user.Peer.Id && data.GetProperty("status").GetString() == "offline")
                            user.PeerOffline.TrySetResult();
                        break;
                }
            }
            catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException or ObjectDisposedException)
            {
                // The connection ended under an ack: the rest of the inbox is still read.
            }
        }
    }

    private static async Task AckAsync(User user, Connection connection, List<long> ids)
    {
        if (ids.Count == 0) return;
        var answer = await connection.Client.RequestAsync("message_ack", w =>
        {
            w.WriteStartArray("message_ids");
            foreach (long id in ids) w.WriteNumberValue(id);
            w.WriteEndArray();
        });
        if (answer.Code == ErrorCodes.Ok)
            foreach (long id in ids) user.AckConfirmed.TryAdd(id, connection);
    }

    /// <summary>
    /// Waits until every acknowledged message reached its receiver (pushes, offline batches and catch-up syncs
    /// together), then asserts: once per connection (docs/messaging.md "Once per connection"); across connections only
    /// what the receiver had not acked yet may come again (its offline batch holds messages still `sent`); live pushes
    /// in id order per connection; each sender's acknowledged ids rising in send order; no message stored twice.
    /// </summary>
    public async Task VerifyAsync(TimeSpan deadline)
    {
        foreach (var user in Users)
        {
            Assert.True(user.Errors.IsEmpty, $"user {user.Id}: unexpected answers: {string.Join("; ", user.Errors)}");
            Assert.Equal(0, user.Current!.Client.DroppedUnsolicited);
        }
        // Pushes of the last sends may still be on their way: wait for them, bounded.
        try
        {
            await Infrastructure.Wait.UntilAsync(() => Users.All(u => u.Peer.Acked.All(a => u.Received(a.Id))), "every acknowledged message delivered", deadline);
        }
        catch (TimeoutException)
        {
            var missing = Users.SelectMany(u => u.Peer.Acked.Where(a => !u.Received(a.Id))
                .Select(a => $"{a.ClientMsgId} (id {a.Id}, to user {u.Id} on node {u.Node}, connections {u.Connections.Count}, last before {u.LastBefore})")).ToList();
            Assert.Fail($"{missing.Count} acknowledged message(s) never delivered: {string.Join(", ", missing.Take(20))}");
        }

        foreach (var user in Users)
        {
            var sent = user.Acked.ToList();
            // A resend of an unanswered send is acknowledged with the first id when it had been stored; the ids still rise.
            for (int i = 1; i < sent.Count; i++)
                Assert.True(sent[i].Id > sent[i - 1].Id, $"user {user.Id}: {sent[i].ClientMsgId} acknowledged id {sent[i].Id} after {sent[i - 1].Id}");
            var delivered = new HashSet<long>();
            foreach (var connection in user.Connections)
            {
                var dup = connection.Count.Where(c => c.Value > 1).Select(c => c.Key).ToList();
                Assert.True(dup.Count == 0, $"user {user.Id}: message(s) {string.Join(", ", dup)} delivered twice on one connection (node {connection.Node})");
                var live = connection.Live.ToList();
                for (int i = 1; i < live.Count; i++)
                    Assert.True(live[i] > live[i - 1], $"user {user.Id}: push {live[i]} after {live[i - 1]} on one connection");
                foreach (long id in connection.Count.Keys)
                {
                    // Again on a later connection: only a message no earlier connection had acked.
                    if (!delivered.Add(id))
                        Assert.False(user.AckConfirmed.TryGetValue(id, out var acker) && acker != connection && user.Connections.IndexOf(acker) < user.Connections.IndexOf(connection),
                            $"user {user.Id}: message {id} acked on an earlier connection was delivered again");
                }
            }
        }

        // Stored once: one row per (sender, content), the content being the client_msg_id; every acknowledged id is that row.
        await using var db = await _kit.Db.DataSource.OpenConnectionAsync();
        await using var twice = new MySqlCommand("SELECT COUNT(*) - COUNT(DISTINCT sender_id, content) FROM messages", db);
        Assert.Equal(0L, Convert.ToInt64(await twice.ExecuteScalarAsync()));
        var stored = new Dictionary<string, long>();
        await using (var rows = new MySqlCommand("SELECT content, message_id FROM messages", db))
        await using (var reader = await rows.ExecuteReaderAsync())
            while (await reader.ReadAsync()) stored[reader.GetString(0)] = reader.GetInt64(1);
        foreach (var user in Users)
            foreach (var (clientMsgId, id, _) in user.Acked)
                Assert.True(stored.TryGetValue(clientMsgId, out long row) && row == id, $"{clientMsgId} acknowledged as {id}, stored as {(stored.TryGetValue(clientMsgId, out long r) ? r : "nothing")}");
    }

    /// <summary>A summary for the test output.</summary>
    public string Describe() =>
        $"{Acknowledged} acknowledged, {Users.Sum(u => u.Unanswered.Count)} unanswered at a connection's end and resent " +
        $"({Users.SelectMany(u => u.Acked).Count(a => a.Message.Contains("already sent", StringComparison.Ordinal))} of them had been stored), " +
        $"{Users.Sum(u => u.Retries.Count)} retried after UNAVAILABLE/SERVER_BUSY/INTERNAL, " +
        $"{Users.Sum(u => u.Synced.Count(s => u.Connections.All(c => !c.Count.ContainsKey(s.Key))))} reached their receiver by sync only";

    /// <summary>One connection of a user: what reached it, in order.</summary>
    internal sealed class Connection(ChatClient client, int node)
    {
        public ChatClient Client { get; } = client;
        public int Node { get; } = node;
        public Task Reader { get; set; } = Task.CompletedTask;
        public ConcurrentDictionary<long, int> Count { get; } = new();
        public ConcurrentQueue<long> Live { get; } = new();

        public void Deliver(long id, bool live)
        {
            Count.AddOrUpdate(id, 1, (_, n) => n + 1);
            if (live) Live.Enqueue(id);
        }
    }

    internal sealed class User(uint id, string name, int node)
    {
        public uint Id { get; } = id;
        public string Name { get; } = name;
        public int Node { get; set; } = node;
        public User Peer { get; set; } = null!;
        public List<Connection> Connections { get; } = [];
        public Connection? Current { get; set; }
        public TaskCompletionSource Reconnected { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource PeerOffline { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool InFlight;
        public long LastFromPeer;
        public long LastBefore { get; set; }
        public ConcurrentQueue<(string ClientMsgId, long Id, string Message)> Acked { get; } = new();
        public int AckedCount => Acked.Count;
        public ConcurrentBag<string> Unanswered { get; } = [];
        public ConcurrentBag<string> Retries { get; } = [];
        public ConcurrentBag<string> Errors { get; } = [];
        public ConcurrentDictionary<long, byte> Synced { get; } = new();
        public ConcurrentDictionary<long, Connection> AckConfirmed { get; } = new();

        public bool Received(long id) => Synced.ContainsKey(id) || Connections.Any(c => c.Count.ContainsKey(id));

        public void SawFromPeer(long id)
        {
            long seen;
            while (id > (seen = Interlocked.Read(ref LastFromPeer)) && Interlocked.CompareExchange(ref LastFromPeer, id, seen) != seen)
            {
            }
        }
    }
}
