using System.Collections.Concurrent;
using System.Text.Json;
using MySqlConnector;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.Protocol;
using QkChat.Server.Accounts;
using QkChat.Server.Security;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// A group and its members on a qkchatd child process, for the stop tests: members send into the group continuously
/// (several sends in flight per connection, each with a client_msg_id and unique content), and every answer is kept,
/// so after a stop the test can hold the store to what was answered and resend what was not.
/// </summary>
internal sealed class GroupSendStream
{
    public const string Password = "a long enough secret";

    private GroupSendStream(int port, long groupId, IReadOnlyList<(uint Id, string Name)> members)
    {
        Port = port;
        GroupId = groupId;
        Members = members;
    }

    public int Port { get; }
    public long GroupId { get; }
    public IReadOnlyList<(uint Id, string Name)> Members { get; }

    /// <summary>Every send made: client_msg_id -> (sender index, content).</summary>
    public ConcurrentDictionary<string, (int Member, string Content)> Sent { get; } = new();

    /// <summary>Sends answered `sent` (or `already sent`): client_msg_id -> (message_id, seq).</summary>
    public ConcurrentDictionary<string, (long MessageId, long Seq)> Answered { get; } = new();

    /// <summary>Sends answered with another code (e.g. SERVER_BUSY while stopping): client_msg_id -> code.</summary>
    public ConcurrentDictionary<string, string> Refused { get; } = new();

    /// <summary><paramref name="memberCount"/> users, all friends of the first, who creates the group with the others.</summary>
    public static async Task<GroupSendStream> CreateAsync(MySqlDataSource data, int port, int memberCount)
    {
        var members = new List<(uint, string)>();
        for (int i = 0; i < memberCount; i++) members.Add(await CreateUserAsync(data));
        for (int i = 1; i < memberCount; i++) await BefriendAsync(data, members[0].Item1, members[i].Item1);
        await using var owner = await LoginAsync(port, members[0].Item2);
        long group = (await Ok(GroupKit.Create(owner, "stop test", [.. members.Skip(1).Select(m => m.Item1)]))).GetProperty("group_id").GetInt64();
        return new GroupSendStream(port, group, members);
    }

    /// <summary>
    /// Logs every member in and starts <paramref name="streamsPerMember"/> send loops on each connection (so that many
    /// sends are in flight per connection); they run until <paramref name="stop"/> or the connection ends.
    /// </summary>
    public async Task<(List<ChatClient> Clients, Task[] Streams)> StartAsync(int streamsPerMember, CancellationToken stop)
    {
        var clients = new List<ChatClient>();
        foreach (var (_, name) in Members) clients.Add(await LoginAsync(Port, name, "sender"));
        var streams = new List<Task>();
        for (int m = 0; m < clients.Count; m++)
            for (int s = 0; s < streamsPerMember; s++)
            {
                var client = clients[m];
                int member = m, stream = s;
                streams.Add(Task.Run(async () =>
                {
                    for (int i = 0; !stop.IsCancellationRequested; i++)
                    {
                        string key = $"m{member}-s{stream}-{i}", content = $"member {member} stream {stream} entry {i}";
                        Sent[key] = (member, content);
                        Envelope response;
                        try
                        {
                            response = await GroupKit.Send(client, GroupId, content, key);
                        }
                        catch (Exception e) when (e is ChatConnectionClosedException or TimeoutException or ObjectDisposedException or IOException)
                        {
                            return;
                        }
                        if (response.Code == ErrorCodes.Ok)
                        {
                            var data = response.Data!.Value;
                            Answered[key] = (data.GetProperty("message_id").GetInt64(), data.GetProperty("seq").GetInt64());
                            if (Answered.Count >= Volatile.Read(ref _answeredTarget)) _answeredReached.TrySetResult();
                        }
                        else Refused[key] = response.Code!;
                    }
                }));
            }
        return (clients, streams.ToArray());
    }

    private int _answeredTarget = int.MaxValue;
    private readonly TaskCompletionSource _answeredReached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Waits (generously, for a loaded box) until <paramref name="count"/> sends were answered `sent`: the send loops
    /// signal it; it fails at once if every loop ended first. Call it once per stream.
    /// </summary>
    public async Task WaitForAnsweredAsync(int count, Task[] streams)
    {
        Volatile.Write(ref _answeredTarget, count);
        if (Answered.Count >= count) return;
        try
        {
            await Task.WhenAny(_answeredReached.Task, Task.WhenAll(streams)).WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
        }
        Assert.True(Answered.Count >= count, $"only {Answered.Count} of {count} group sends answered before the stop");
    }

    /// <summary>Every entry of the group by sync_group_messages from seq 0, oldest first (all of them for the owner, who joined at seq 1).</summary>
    public static async Task<List<JsonElement>> AllEntriesAsync(ChatClient member, long group)
    {
        var entries = new List<JsonElement>();
        while (true)
        {
            long after = entries.Count == 0 ? 0 : entries[^1].GetProperty("seq").GetInt64();
            var page = await Ok(GroupKit.Sync(member, group, after, 500));
            entries.AddRange(page.GetProperty("messages").EnumerateArray().Select(e => e.Clone()));
            if (!page.GetProperty("has_more").GetBoolean()) return entries;
        }
    }

    /// <summary>
    /// What a client holds to after a restart: seqs 1..max without gap or repeat, every answered send at its answered
    /// seq and id with its own content, each content at most once. Returns the entries by content.
    /// </summary>
    public Dictionary<string, JsonElement> CheckStored(List<JsonElement> entries)
    {
        var seqs = entries.Select(e => e.GetProperty("seq").GetInt64()).ToArray();
        Assert.Equal(Enumerable.Range(1, seqs.Length).Select(i => (long)i), seqs); // 1..max, no gap, no repeat
        Assert.Equal(entries.Count, entries.Select(e => e.GetProperty("message_id").GetInt64()).Distinct().Count());
        var texts = entries.Where(e => e.GetProperty("type").GetString() == "text").ToList();
        var byContent = texts.ToDictionary(e => e.GetProperty("content").GetString()!); // throws on a content stored twice
        var bySeq = entries.ToDictionary(e => e.GetProperty("seq").GetInt64());
        foreach (var (key, (messageId, seq)) in Answered)
        {
            Assert.True(bySeq.TryGetValue(seq, out var entry), $"answered {key} (seq {seq}) is not stored");
            Assert.Equal(messageId, entry.GetProperty("message_id").GetInt64());
            Assert.Equal(Sent[key].Content, entry.GetProperty("content").GetString());
            Assert.Equal(Members[Sent[key].Member].Id, entry.GetProperty("sender_id").GetUInt32());
        }
        return byContent;
    }

    /// <summary>
    /// Resends every send that was not answered `sent` with its client_msg_id: stored before the stop, the answer is
    /// that entry's ids; not stored, it is stored now, once. Then the group holds every send exactly once.
    /// </summary>
    public async Task ResendUnansweredAsync(Dictionary<string, JsonElement> storedBefore)
    {
        var clients = new List<ChatClient>();
        try
        {
            foreach (var (_, name) in Members) clients.Add(await LoginAsync(Port, name, "resender"));
            foreach (var (key, (member, content)) in Sent)
            {
                if (Answered.ContainsKey(key)) continue;
                var data = await Ok(GroupKit.Send(clients[member], GroupId, content, key));
                long messageId = data.GetProperty("message_id").GetInt64(), seq = data.GetProperty("seq").GetInt64();
                if (storedBefore.TryGetValue(content, out var stored))
                {
                    Assert.Equal(stored.GetProperty("message_id").GetInt64(), messageId);
                    Assert.Equal(stored.GetProperty("seq").GetInt64(), seq);
                }
                else Assert.True(seq > storedBefore.Values.Select(e => e.GetProperty("seq").GetInt64()).DefaultIfEmpty(0).Max());
                Answered[key] = (messageId, seq);
            }
            var after = CheckStored(await AllEntriesAsync(clients[0], GroupId));
            Assert.Equal(Sent.Count, after.Count); // every send exactly once
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    /// <summary>Makes two users friends, directly in the database.</summary>
    public static async Task BefriendAsync(MySqlDataSource data, uint a, uint b)
    {
        await using var connection = await data.OpenConnectionAsync();
        await using var friends = new MySqlCommand($"INSERT INTO friendships VALUES ({a}, {b}, 0), ({b}, {a}, 0)", connection);
        await friends.ExecuteNonQueryAsync();
    }

    public static async Task<(uint Id, string Name)> CreateUserAsync(MySqlDataSource data)
    {
        string name = AccountsHarness.UniqueName();
        string hash = new Argon2idPasswordHasher(8 * 1024, 1).Hash(Password);
        var (_, user) = await new MySqlUserStore(data).CreateAsync(name, name + "@example.org", hash, CancellationToken.None);
        return (user!.UserId, name);
    }

    public static async Task<ChatClient> LoginAsync(int port, string name, string device = "phone")
    {
        var client = await ChatClient.ConnectAsync("127.0.0.1", port, new ChatClientOptions { LocalAddress = AccountsHarness.RandomLoopback() });
        await Ok(AccountsHarness.Login(client, name, Password, device));
        return client;
    }
}
