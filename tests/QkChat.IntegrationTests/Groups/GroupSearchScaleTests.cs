using System.Diagnostics;
using System.Text;
using MySqlConnector;
using QkChat.Core.Messaging;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// search_messages over 40,000 group entries in 200 groups, the searcher a member of 100 of them (joined half-way
/// through 50 of those): the entries are stored without terms, as a crash between a batch's commit and its indexing
/// leaves them, and the start's catch-up indexes them; then every result is in the searcher's groups at or after their
/// joined seq, the FULLTEXT index serves the search (EXPLAIN), and the times are printed (not asserted: they depend on
/// the machine).
/// </summary>
public sealed class GroupSearchScaleTests(ITestOutputHelper output)
{
    private const int Groups = 200, MyGroups = 100, PerGroup = 200, Batch = 1_000;

    private static readonly string[] Words =
        ["hello", "meeting", "tomorrow", "lunch", "project", "deadline", "coffee", "weekend", "report", "travel", "photo", "music"];

    private static readonly string[] Chinese = ["我们明天见面", "今天天气很好", "北京欢迎你", "开会时间改了", "周末一起吃饭"];

    [Fact(Timeout = 300_000)] // 40,000 rows inserted and indexed on a loaded 2-core box before the timed searches
    public async Task Catch_up_indexes_stored_entries_and_search_finds_only_my_groups_from_my_join_on_through_the_index()
    {
        await using var h = await Chat.ChatHarness.StartAsync();
        var (me, myName) = await h.CreateUserAsync();
        var (other, _) = await h.CreateUserAsync();
        var joined = await BulkInsertAsync(h, me, other);

        var catchUp = Stopwatch.StartNew();
        await h.Features.Groups.Indexer.CatchUpAsync();
        output.WriteLine($"catch-up indexed {Groups * PerGroup:N0} group entries in {catchUp.Elapsed.TotalSeconds:F1} s");
        await using (var connection = await h.Data.OpenConnectionAsync())
        await using (var count = new MySqlCommand("SELECT COUNT(*) FROM chat_group_search", connection))
            Assert.Equal((long)Groups * PerGroup, Convert.ToInt64(await count.ExecuteScalarAsync()));

        var phone = await h.LoginAsync(myName);
        var keywords = new (string Keyword, long? Group)[]
        {
            ("hello", null), ("meet", null), ("明天", null), ("北京欢迎", null), ("lunch deadline", null), ("coffee", 3), ("天气", 5),
            ("zzzunknown", null),
        };
        foreach (var (k, g) in keywords) await Ok(Search(phone, k, g));
        var times = new List<double>();
        foreach (var (keyword, group) in keywords)
        {
            for (int round = 0; round < 5; round++)
            {
                var watch = Stopwatch.StartNew();
                var data = await Ok(Search(phone, keyword, group));
                times.Add(watch.Elapsed.TotalMilliseconds);
                var ids = new List<long>();
                foreach (var m in data.GetProperty("messages").EnumerateArray())
                {
                    Assert.Equal("group", m.GetProperty("kind").GetString());
                    long g = m.GetProperty("group_id").GetInt64(), seq = m.GetProperty("seq").GetInt64();
                    Assert.True(joined.TryGetValue(g, out long from), $"{keyword}: entry of group {g}, not mine");
                    Assert.True(seq >= from, $"{keyword}: group {g} seq {seq} is before my join at {from}");
                    if (group is { } only) Assert.Equal(only, g);
                    ids.Add(m.GetProperty("message_id").GetInt64());
                }
                Assert.Equal(ids.OrderDescending(), ids);
                if (round == 0) output.WriteLine($"'{keyword}'{(group is null ? "" : " in one group")}: {ids.Count} result(s), {watch.Elapsed.TotalMilliseconds:F1} ms");
            }
        }
        times.Sort();
        output.WriteLine($"search_messages round trip over {times.Count} searches in {MyGroups} groups: median {times[times.Count / 2]:F1} ms, " +
                         $"p90 {times[(int)(times.Count * 0.9)]:F1} ms, max {times[^1]:F1} ms");
        Assert.Equal(100, (await Ok(Search(phone, "hello", null, 100))).GetProperty("messages").GetArrayLength());
        Assert.Empty((await Ok(Search(phone, "zzzunknown", null))).GetProperty("messages").EnumerateArray());

        // The plan: the FULLTEXT index, then the keys of members, groups and entries; no scan.
        await using var db = await h.Data.OpenConnectionAsync();
        await using var explain = new MySqlCommand(
            "EXPLAIN SELECT e.message_id FROM chat_group_search s " +
            "JOIN chat_group_members m ON m.group_id = s.group_id AND m.user_id = @me AND m.state = 0 AND s.seq >= m.joined_seq " +
            "JOIN chat_groups g ON g.group_id = s.group_id AND g.dissolved_at IS NULL " +
            "JOIN chat_group_entries e ON e.group_id = s.group_id AND e.seq = s.seq AND e.type = 'text' AND e.recalled = 0 " +
            "WHERE MATCH (s.terms) AGAINST (@q IN BOOLEAN MODE) ORDER BY s.message_id DESC LIMIT 21", db);
        explain.Parameters.AddWithValue("@q", SearchText.GroupQuery("hello", [.. joined.Keys.Order()]));
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

    private static Task<Protocol.Envelope> Search(QkChat.Client.ChatClient c, string keyword, long? group, int limit = 20) =>
        c.RequestAsync("search_messages", w =>
        {
            w.WriteString("keyword", keyword);
            if (group is { } g) w.WriteNumber("group_id", g);
            w.WriteNumber("limit", limit);
        });

    /// <summary>
    /// Groups 1-200 with 200 text entries each (seq 1-200), straight into the tables without search terms; the searcher is
    /// a member of the odd ones, from seq 1 in half of them and from seq 101 in the rest. Returns group -> joined seq.
    /// </summary>
    private static async Task<Dictionary<long, long>> BulkInsertAsync(Chat.ChatHarness h, uint me, uint other)
    {
        var random = new Random(18);
        var joined = new Dictionary<long, long>();
        await using var connection = await h.Data.OpenConnectionAsync();
        await using (var groups = new MySqlCommand { Connection = connection })
        {
            var sql = new StringBuilder("INSERT INTO chat_groups (group_id, name, owner_id, created_at, max_seq, member_count) VALUES ");
            var members = new StringBuilder("INSERT INTO chat_group_members (group_id, user_id, role, state, joined_seq, read_seq, joined_at) VALUES ");
            for (int g = 1; g <= Groups; g++)
            {
                sql.Append(g == 1 ? "" : ",").Append($"({g}, 'g{g}', {other}, 0, {PerGroup}, 2)");
                members.Append(g == 1 ? "" : ",").Append($"({g}, {other}, 2, 0, 1, 0, 0)");
                if (g % 2 == 1)
                {
                    long from = g % 4 == 1 ? 1 : PerGroup / 2 + 1;
                    joined[g] = from;
                    members.Append($",({g}, {me}, 0, 0, {from}, 0, 0)");
                }
            }
            groups.CommandText = sql + ";" + members;
            await groups.ExecuteNonQueryAsync();
        }
        Assert.Equal(MyGroups, joined.Count);

        long id = 1_000_000; // below any id the server mints now
        var all = Enumerable.Range(0, Groups * PerGroup).ToArray();
        for (int start = 0; start < all.Length; start += Batch)
        {
            var entries = new StringBuilder("INSERT INTO chat_group_entries (group_id, seq, message_id, sender_id, type, content, created_at) VALUES ");
            await using var command = new MySqlCommand { Connection = connection };
            for (int i = 0; i < Batch; i++)
            {
                int n = start + i;
                long group = n % Groups + 1, seq = n / Groups + 1;
                string content = n % 3 == 0
                    ? Chinese[random.Next(Chinese.Length)] + "，" + Chinese[random.Next(Chinese.Length)]
                    : $"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]} number {n} and some more ordinary words";
                entries.Append(i == 0 ? "" : ",").Append($"(@g{i},@q{i},@i{i},@s{i},'text',@c{i},0)");
                command.Parameters.AddWithValue($"@g{i}", group);
                command.Parameters.AddWithValue($"@q{i}", seq);
                command.Parameters.AddWithValue($"@i{i}", ++id);
                command.Parameters.AddWithValue($"@s{i}", other);
                command.Parameters.AddWithValue($"@c{i}", content);
            }
            command.CommandText = entries.ToString();
            await command.ExecuteNonQueryAsync();
        }
        return joined;
    }
}
