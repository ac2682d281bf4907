using System.Diagnostics;
using System.Text;
using MySqlConnector;
using QkChat.Core.Messaging;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Social.SocialKit;

namespace QkChat.IntegrationTests.Social;

/// <summary>
/// search_messages over 100,000 stored messages: the FULLTEXT index serves it (EXPLAIN), it returns only the
/// searcher's messages, and the answer time is printed (recorded in bench/RESULTS.md, not asserted: it depends on
/// the machine).
/// </summary>
public sealed class SearchScaleTests(ITestOutputHelper output)
{
    private const int Total = 100_000, Mine = 2_000, Others = 40, Batch = 1_000;

    private static readonly string[] Words =
        ["hello", "meeting", "tomorrow", "lunch", "project", "deadline", "coffee", "weekend", "report", "travel", "photo", "music"];

    private static readonly string[] Chinese = ["我们明天见面", "今天天气很好", "北京欢迎你", "开会时间改了", "周末一起吃饭"];

    [Fact(Timeout = 60_000)]
    public async Task Search_over_100k_messages_uses_the_index_and_returns_only_the_searchers_messages()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (peer, _) = await h.CreateUserAsync();
        var others = new List<uint>();
        for (int i = 0; i < Others; i++) others.Add((await h.CreateUserAsync()).Id);

        var insert = Stopwatch.StartNew();
        await BulkInsertAsync(h, me, peer, others);
        insert.Stop();
        output.WriteLine($"inserted {Total:N0} messages with their search terms in {insert.Elapsed.TotalSeconds:F1} s");

        var phone = await h.LoginAsync(myName);
        var keywords = new (string Keyword, uint? Peer)[]
        {
            ("hello", null), ("meet", null), ("coffee", peer), ("明天", null), ("北京欢迎", null), ("天气", peer), ("lunch deadline", null),
            ("zzzunknown", null),
        };
        // Warm-up (first touch of the index pages), then timed rounds.
        foreach (var (k, p) in keywords) await Ok(Search(phone, k, p, 100));
        var times = new List<double>();
        foreach (var (keyword, p) in keywords)
        {
            for (int round = 0; round < 5; round++)
            {
                var watch = Stopwatch.StartNew();
                var data = await Ok(Search(phone, keyword, p, 100));
                times.Add(watch.Elapsed.TotalMilliseconds);
                foreach (var m in data.GetProperty("messages").EnumerateArray())
                {
                    uint s = m.GetProperty("sender_id").GetUInt32(), r = m.GetProperty("receiver_id").GetUInt32();
                    Assert.True(s == me || r == me, $"{keyword}: message {m} is not the searcher's");
                    if (p is { } only) Assert.True(s == only || r == only);
                }
                var ids = Ids(data.GetProperty("messages"));
                Assert.Equal(ids.OrderByDescending(x => x), ids);
                if (round == 0) output.WriteLine($"'{keyword}'{(p is null ? "" : " in one conversation")}: {ids.Length} result(s), {watch.Elapsed.TotalMilliseconds:F1} ms");
            }
        }
        times.Sort();
        output.WriteLine($"search_messages round trip over {times.Count} searches: median {times[times.Count / 2]:F1} ms, " +
                         $"p90 {times[(int)(times.Count * 0.9)]:F1} ms, max {times[^1]:F1} ms");

        // A keyword in about 1 message of 12 everywhere: the searcher has matches, and every one of them is found.
        Assert.Equal(100, (await SearchIds(phone, "hello", limit: 100)).Length);
        Assert.Empty(await SearchIds(phone, "zzzunknown"));

        // The plan: the FULLTEXT index, not a scan of message_search or messages.
        await using var connection = await h.Data.OpenConnectionAsync();
        await using var explain = new MySqlCommand(
            "EXPLAIN SELECT m.message_id FROM message_search s JOIN messages m ON m.message_id = s.message_id " +
            "WHERE MATCH (s.terms) AGAINST (@q IN BOOLEAN MODE) AND (s.sender_id = @me OR s.receiver_id = @me) AND m.recalled = 0 " +
            "ORDER BY s.message_id DESC LIMIT 21", connection);
        explain.Parameters.AddWithValue("@q", SearchText.Query("hello", me));
        explain.Parameters.AddWithValue("@me", me);
        var plan = new StringBuilder();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                string table = reader.GetString(reader.GetOrdinal("table")), type = reader.GetString(reader.GetOrdinal("type"));
                plan.Append(table).Append(':').Append(type).Append(' ');
                Assert.NotEqual("ALL", type);
                if (table == "s") Assert.Equal("fulltext", type);
            }
        }
        output.WriteLine("plan: " + plan);
    }

    /// <summary>
    /// 100,000 messages (2,000 between the searcher and a peer, the rest among 40 other users), every one with the
    /// terms the server would write, in multi-row INSERTs of 1,000.
    /// </summary>
    private static async Task BulkInsertAsync(Chat.ChatHarness h, uint me, uint peer, List<uint> others)
    {
        var random = new Random(9);
        await using var connection = await h.Data.OpenConnectionAsync();
        long id = 1_000_000; // below any id the server mints now, so live messages stay newest
        for (int start = 0; start < Total; start += Batch)
        {
            var messages = new StringBuilder("INSERT INTO messages (message_id, sender_id, receiver_id, user_lo, user_hi, content, created_at, status) VALUES ");
            var search = new StringBuilder("INSERT INTO message_search (message_id, sender_id, receiver_id, user_lo, user_hi, terms) VALUES ");
            await using var command = new MySqlCommand { Connection = connection };
            for (int i = 0; i < Batch; i++)
            {
                int n = start + i;
                uint s, r;
                if (n % (Total / Mine) == 0) (s, r) = n / (Total / Mine) % 2 == 0 ? (me, peer) : (peer, me);
                else
                {
                    s = others[random.Next(others.Count)];
                    do r = others[random.Next(others.Count)]; while (r == s);
                }
                string content = n % 3 == 0
                    ? Chinese[random.Next(Chinese.Length)] + "，" + Chinese[random.Next(Chinese.Length)]
                    : $"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]} number {n} and some more ordinary words";
                id++;
                if (i > 0)
                {
                    messages.Append(',');
                    search.Append(',');
                }
                messages.Append($"(@i{i},@s{i},@r{i},@l{i},@h{i},@c{i},0,3)");
                search.Append($"(@i{i},@s{i},@r{i},@l{i},@h{i},@t{i})");
                command.Parameters.AddWithValue($"@i{i}", id);
                command.Parameters.AddWithValue($"@s{i}", s);
                command.Parameters.AddWithValue($"@r{i}", r);
                command.Parameters.AddWithValue($"@l{i}", Math.Min(s, r));
                command.Parameters.AddWithValue($"@h{i}", Math.Max(s, r));
                command.Parameters.AddWithValue($"@c{i}", content);
                command.Parameters.AddWithValue($"@t{i}", SearchText.Terms(content, s, r));
            }
            command.CommandText = messages + ";" + search;
            await command.ExecuteNonQueryAsync();
        }
    }
}
