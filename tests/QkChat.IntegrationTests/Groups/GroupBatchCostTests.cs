using System.Diagnostics;
using System.Globalization;
using MySqlConnector;
using QkChat.Core.Groups;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.Server.Groups;
using Xunit;
using static QkChat.IntegrationTests.Groups.GroupStoreHarness;

namespace QkChat.IntegrationTests.Groups;

/// <summary>
/// issue 18's many-small-groups benchmark: what one append batch costs when it spans a hundred or more groups, statement
/// by statement. The store runs on a pool of one connection that is not reset between uses, so MariaDB's session
/// profiling (SHOW PROFILES) sees every statement of the batch with its server-side duration; the harness prints them
/// (times are printed, never asserted: the box is shared) and checks that every entry was stored at the next seq.
/// </summary>
public sealed class GroupBatchCostTests
{
    private const int Members = 10;

    [Fact(Timeout = 600_000)] // 400 groups created one transaction each, then 30 profiled batches on a loaded 2-core box
    public async Task Batches_over_hundreds_of_groups_are_stored_and_each_statement_is_timed()
    {
        await using var h = await StartAsync();
        var builder = new MySqlConnectionStringBuilder(TestStack.ConnectionString(h.Db.Name)) { MaximumPoolSize = 1, ConnectionReset = false };
        await using var profiled = new MySqlDataSource(builder.ConnectionString);
        var store = new MySqlGroupStore(profiled);

        const int GroupCount = 400;
        var users = await h.UsersAsync(GroupCount * Members);
        var groups = new long[GroupCount];
        for (int g = 0; g < GroupCount; g++)
            groups[g] = await h.GroupAsync(users[g * Members], users[(g * Members + 1)..((g + 1) * Members)]);
        var expectedMax = groups.ToDictionary(g => g, _ => 2L);

        var report = new List<string>();
        var rng = new Random(18);
        (int Entries, int Groups)[] shapes = [(200, 200), (200, 100), (400, 400)];
        foreach (var (entries, spanned) in shapes)
        {
            var byStatement = new Dictionary<string, List<double>>();
            var totals = new List<double>();
            var memberLoads = new List<double>();
            var batchedLoads = new List<double>();
            for (int round = 0; round < 10; round++)
            {
                // Entry i goes to one of `spanned` groups picked at random for the round, from a random member, with a
                // client_msg_id: what 1,000 groups of 10 members sending 1 entry/s each hand the writer.
                var picked = groups.OrderBy(_ => rng.Next()).Take(spanned).ToArray();
                NewGroupEntry[] batch = [.. Enumerable.Range(0, entries).Select(i =>
                {
                    long group = picked[i % spanned];
                    int slot = Array.IndexOf(groups, group);
                    uint sender = users[slot * Members + rng.Next(Members)];
                    return h.Text(group, sender, $"entry {round}/{i} " + new string('x', 40), $"c{round}-{i}-{rng.Next()}");
                })];

                await ProfilingAsync(profiled, on: true);
                int seen = (await ProfilesAsync(profiled, after: 0)).Select(p => p.Id).DefaultIfEmpty(0).Max();
                var clock = Stopwatch.StartNew();
                var outcomes = await store.AppendAsync(batch, Ct);
                double total = clock.Elapsed.TotalMilliseconds;
                var profile = await ProfilesAsync(profiled, after: seen);
                await ProfilingAsync(profiled, on: false);

                Assert.All(outcomes, o => Assert.Equal(AppendResult.Stored, o.Result));
                for (int i = 0; i < batch.Length; i++) Assert.Equal(++expectedMax[batch[i].GroupId], outcomes[i].Seq);
                if (round < 2) continue; // warm-up: the first batches of a shape load pages and plans
                totals.Add(total);
                // Per batch, the sum of each statement kind (a batch runs two UPDATEs; SHOW PROFILES keeps only the first
                // 300 characters of a query, so a statement that starts with its derived table is told apart by its order).
                var occurrences = new Dictionary<string, int>();
                var perBatch = new Dictionary<string, double>();
                foreach (var (_, raw, ms) in profile)
                {
                    int nth = occurrences[raw] = occurrences.GetValueOrDefault(raw) + 1;
                    string label = raw is "UPDATE" or "SELECT" ? $"{raw} #{nth} ({Ordinal(raw, nth)})" : raw;
                    perBatch[label] = perBatch.GetValueOrDefault(label) + ms;
                }
                foreach (var (label, ms) in perBatch) (byStatement.TryGetValue(label, out var l) ? l : byStatement[label] = []).Add(ms);

                // The members of the batch's groups on a cold cache, one query per group, one after another (the writer
                // before the batched read).
                var cache = new GroupMemberCache(store.MembershipAsync);
                clock.Restart();
                foreach (long g in picked) await cache.MembersAsync(g, Ct);
                memberLoads.Add(clock.Elapsed.TotalMilliseconds);
                // The same groups with one query for all of them, as the writer reads them now.
                var batched = new GroupMemberCache(store.MembershipAsync, loadMany: store.MembershipsAsync);
                var found = new Dictionary<long, GroupMembership>();
                clock.Restart();
                await batched.MembersOfAsync(picked, found, Ct);
                batchedLoads.Add(clock.Elapsed.TotalMilliseconds);
                Assert.All(picked, g => Assert.Equal(Members, found[g].Count));
            }
            report.Add($"batch of {entries} entries over {spanned} groups (median / max ms of 8 batches; statements: server time per batch):");
            report.Add($"  AppendAsync total (client)  {Median(totals),8:F1} / {totals.Max(),8:F1}");
            foreach (var (label, times) in byStatement.OrderByDescending(s => s.Value.Sum()))
                report.Add($"  {label,-60} {Median(times),8:F1} / {times.Max(),8:F1}");
            report.Add($"  member lists, cold cache, {spanned} groups, one query each  {Median(memberLoads),8:F1} / {memberLoads.Max(),8:F1}");
            report.Add($"  member lists, cold cache, {spanned} groups, one query       {Median(batchedLoads),8:F1} / {batchedLoads.Max(),8:F1}");
        }
        foreach (var (g, max) in expectedMax) Assert.Equal(max, await h.MaxSeqAsync(g));
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join('\n', report));
    }

    /// <summary>What the nth statement of a batch that the truncated text does not name is (MySqlGroupStore.Append.cs order).</summary>
    private static string Ordinal(string verb, int nth) => (verb, nth) switch
    {
        ("SELECT", 1) => "sender is a member, chat_group_members",
        ("UPDATE", 1) => "counters, chat_groups",
        ("UPDATE", 2) => "senders' read_seq, chat_group_members",
        _ => "?",
    };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static async Task ProfilingAsync(MySqlDataSource db, bool on)
    {
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var command = new MySqlCommand(on ? "SET profiling_history_size = 100; SET profiling = 1" : "SET profiling = 0", connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>
    /// The profiled statements with a Query_ID above <paramref name="after"/> (SHOW PROFILES keeps the session's last
    /// 100 statements, earlier batches' too), each with a label made of its verb and table.
    /// </summary>
    private static async Task<List<(int Id, string Label, double Ms)>> ProfilesAsync(MySqlDataSource db, int after)
    {
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var command = new MySqlCommand("SHOW PROFILES", connection);
        var list = new List<(int, string, double)>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            int id = reader.GetInt32(0);
            string query = reader.GetString(2);
            if (id <= after || query.StartsWith("SET profiling", StringComparison.Ordinal) || query.StartsWith("SHOW", StringComparison.Ordinal)) continue;
            list.Add((id, Label(query), reader.GetDouble(1) * 1000));
        }
        return list;
    }

    /// <summary>"SELECT chat_groups", "UPDATE chat_group_members", ... and what tells two statements on one table apart.</summary>
    private static string Label(string query)
    {
        string flat = string.Join(' ', query.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
        string verb = flat.Split(' ')[0].ToUpperInvariant(); // COMMIT has no second word
        int table = flat.IndexOf("chat_group", StringComparison.Ordinal);
        string label = table < 0 ? verb : $"{verb} {flat[table..].Split(' ')[0]}";
        if (flat.Contains("BETWEEN", StringComparison.Ordinal)) label += " by message id + client_msg_id keys (idempotency)";
        else if (flat.Contains("seq >", StringComparison.Ordinal)) label += " (read-back)";
        else if (verb == "SELECT" && label.EndsWith("members", StringComparison.Ordinal)) label += " (sender is a member)";
        else if (verb == "SELECT" && label.EndsWith("groups", StringComparison.Ordinal)) label += " FOR UPDATE (lock counters)";
        if (flat.Contains(" JOIN ", StringComparison.Ordinal) && verb != "SELECT") label += " JOIN";
        return label.ToString(CultureInfo.InvariantCulture);
    }
}
