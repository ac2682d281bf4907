using System.Data;
using System.Text;
using MySqlConnector;
using QkChat.Core.Groups;
using QkChat.Server.Storage;

namespace QkChat.Server.Groups;

/// <summary>
/// Appending send_group_message batches. Seqs come from each group's counter (chat_groups.max_seq) in the batch's
/// transaction, never from process memory: the batch locks its groups' rows first (in group id order, so two batches
/// cannot deadlock on them), decides each entry under that lock, inserts the entries at the next seqs and writes each
/// counter once. Another writer (thread or node) waits for the lock and continues after the last seq, so seqs have no
/// gap and no repeat. Two round trips carry the whole batch, whatever its size or number of groups, and no statement
/// grows faster than the batch: keys are matched by a join against a derived table of the batch's keys
/// (<see cref="AppendKeyTable"/>) or by a row IN list on a unique index, never by an OR chain (MariaDB 10.11 plans an OR
/// of 400 (group, user) pairs in 80-140 ms, the join in 3 ms: bench/RESULTS.md, "statement cost per batch"). Integer
/// values go into the text as invariant literals (as FileRows does); only strings (content, client_msg_id) are parameters,
/// so a 500-entry batch builds ~1,000 parameters, not ~7,000.
/// </summary>
public sealed partial class MySqlGroupStore
{
    private const string EntryKeyColumns = "group_id, seq, message_id, sender_id, client_msg_id, created_at";

    private long _appendDeadlocks;

    /// <summary>
    /// Append batches rolled back by a deadlock and run again (BackendErrors.Guard). Expected 0 with several group
    /// writers (disjoint groups, locks in group id order, READ COMMITTED: docs/storage.md "Several group writers");
    /// GroupWritersTests asserts it.
    /// </summary>
    public long AppendDeadlocks => Interlocked.Read(ref _appendDeadlocks);

    public Task<AppendOutcome[]> AppendAsync(IReadOnlyList<NewGroupEntry> batch, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            var outcomes = new AppendOutcome[batch.Count];
            if (batch.Count == 0) return outcomes;
            await using var connection = await db.OpenConnectionAsync(ct);
            // READ COMMITTED: the lookups after the lock read the newest committed rows (not a snapshot) and take no gap
            // locks, so batches of different groups whose message ids interleave cannot deadlock on the id index.
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            var (counters, members, stored) = await LockAndLookAsync(connection, transaction, batch, ct);

            // Decide each entry in batch order under the locks; a repeat inside the batch is a duplicate of its first.
            var plannedSeq = new long[batch.Count];
            var firstOfKey = new Dictionary<(long, uint, string), int>();
            var startSeq = new Dictionary<long, long>(counters);
            for (int i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                if (!counters.ContainsKey(e.GroupId) || !members.Contains((e.GroupId, e.SenderId)))
                    outcomes[i] = new AppendOutcome(AppendResult.NotMember, 0, e.MessageId, e.Timestamp);
                else if (e.ClientMsgId is not null && stored.ByKey.TryGetValue((e.GroupId, e.SenderId, e.ClientMsgId), out var first))
                    outcomes[i] = new AppendOutcome(AppendResult.Duplicate, first.Seq, first.MessageId, first.CreatedAt);
                else if (e.ClientMsgId is not null && firstOfKey.TryGetValue((e.GroupId, e.SenderId, e.ClientMsgId), out int earlier))
                    plannedSeq[i] = -earlier - 1; // resolved after the read-back, from the earlier entry's outcome
                else if (stored.MessageIds.Contains(e.MessageId))
                    outcomes[i] = new AppendOutcome(AppendResult.NotStored, 0, e.MessageId, e.Timestamp);
                else
                {
                    plannedSeq[i] = counters[e.GroupId] += 1;
                    if (e.ClientMsgId is not null) firstOfKey[(e.GroupId, e.SenderId, e.ClientMsgId)] = i;
                }
            }

            if (plannedSeq.Any(s => s > 0))
            {
                await InsertAndAdvanceAsync(connection, transaction, batch, plannedSeq, startSeq, counters, ct);
                // The plain INSERT stored every planned row at its seq or failed the statement and the transaction (a taken
                // seq or message id is a unique key error, never a skipped row), so the rows are the plan.
                for (int i = 0; i < batch.Count; i++)
                    if (plannedSeq[i] > 0) outcomes[i] = new AppendOutcome(AppendResult.Stored, plannedSeq[i], batch[i].MessageId, batch[i].Timestamp);
            }
            for (int i = 0; i < batch.Count; i++)
                if (plannedSeq[i] < 0)
                {
                    var first = outcomes[-(int)plannedSeq[i] - 1];
                    outcomes[i] = first with { Result = AppendResult.Duplicate };
                }
            await transaction.CommitAsync(ct);
            return outcomes;
        }, () => Interlocked.Increment(ref _appendDeadlocks));

    /// <summary>
    /// One command, three results: the batch's live groups locked with their counters (FOR UPDATE, ascending id), the
    /// senders that are current members, and the stored entries holding the batch's message ids or its
    /// (group, sender, client_msg_id) keys. The lock comes first in the command, so the other two read after it: a
    /// concurrent batch for the same group has committed by then and, under READ COMMITTED, its keys are seen. A
    /// message id taken concurrently by another group's batch is not seen here; the unique key then fails the INSERT
    /// and the whole transaction, so nothing is stored and no seq is skipped.
    /// </summary>
    private static async Task<(Dictionary<long, long> Counters, HashSet<(long, uint)> Members, StoredKeys Stored)> LockAndLookAsync(
        MySqlConnection connection, MySqlTransaction transaction, IReadOnlyList<NewGroupEntry> batch, CancellationToken ct)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        var groups = batch.Select(e => e.GroupId).Distinct().Order().ToArray();
        var sql = new StringBuilder("SELECT group_id, max_seq FROM chat_groups WHERE dissolved_at IS NULL AND group_id IN (");
        for (int g = 0; g < groups.Length; g++) sql.Append(Inv, $"{(g == 0 ? "" : ",")}{groups[g]}");
        sql.Append(") ORDER BY group_id FOR UPDATE;");

        // Membership changes lock the group row before they touch members, so under the lock above this reads a settled state.
        // A join of a derived table of the (group, sender) pairs: one primary key lookup each (an OR chain or a row IN list
        // of the pairs is planned by the range optimizer in time that grows with the square of the pairs). STRAIGHT_JOIN
        // here and in the UPDATEs: the batch's keys drive, so a large members table is never scanned (EXPLAIN: eq_ref).
        var senders = batch.Select(e => (e.GroupId, (long)e.SenderId)).Distinct().ToArray();
        sql.Append("SELECT m.group_id, m.user_id FROM ");
        AppendKeyTable(sql, "group_id", "user_id", senders);
        sql.Append(" STRAIGHT_JOIN chat_group_members m ON m.group_id = k.group_id AND m.user_id = k.user_id WHERE m.state = 0;");

        // The batch's ids are one node's and nearly consecutive: a range of the unique key, as the one-to-one read-back.
        sql.Append(Inv, $"SELECT {EntryKeyColumns} FROM chat_group_entries WHERE message_id BETWEEN {batch.Min(e => e.MessageId)} AND {batch.Max(e => e.MessageId)}");
        // The (group, sender, client_msg_id) keys as a row IN list: a range of uk_chat_group_entries_client_msg (EXPLAIN:
        // range, key length 271, one row per key). Each comparison takes the column's utf8mb4_nopad_bin (a column beats a
        // literal), so it is byte for byte. Above in_predicate_conversion_threshold (1,000) MariaDB turns the list into a
        // join of a table value constructor, which also uses the index.
        int k = 0;
        foreach (var e in batch)
        {
            if (e.ClientMsgId is null) continue;
            sql.Append(k == 0 ? $" UNION ALL SELECT {EntryKeyColumns} FROM chat_group_entries WHERE (group_id, sender_id, client_msg_id) IN (" : ",");
            sql.Append(Inv, $"({e.GroupId},{e.SenderId},@kc{k})");
            command.Parameters.AddWithValue($"@kc{k}", e.ClientMsgId);
            k++;
        }
        if (k > 0) sql.Append(')');
        command.CommandText = sql.ToString();

        var counters = new Dictionary<long, long>();
        var members = new HashSet<(long, uint)>();
        var stored = new StoredKeys();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) counters[reader.GetInt64(0)] = reader.GetInt64(1);
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct)) members.Add((reader.GetInt64(0), reader.GetUInt32(1)));
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = ReadKeyRow(reader);
            stored.MessageIds.Add(row.MessageId);
            // Ordinal, like the column's utf8mb4_nopad_bin: "Key", "key" and "Key " are three keys.
            if (row.ClientMsgId is not null) stored.ByKey.TryAdd((row.GroupId, row.SenderId, row.ClientMsgId), row);
        }
        return (counters, members, stored);
    }

    /// <summary>
    /// One command: the multi-row INSERT at the planned seqs (a plain INSERT: a conflict fails the whole transaction,
    /// so no seq is ever skipped), one UPDATE writing every touched group's counter and one UPDATE moving each sender's
    /// read_seq up to their newest entry, both driven by a derived table of the new values (one primary key lookup per
    /// row; a CASE of n branches over n rows, as before, costs n squared).
    /// </summary>
    private static async Task InsertAndAdvanceAsync(MySqlConnection connection, MySqlTransaction transaction,
        IReadOnlyList<NewGroupEntry> batch, long[] plannedSeq, Dictionary<long, long> startSeq, Dictionary<long, long> counters, CancellationToken ct)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        var sql = new StringBuilder("INSERT INTO chat_group_entries (group_id, seq, message_id, sender_id, type, content, client_msg_id, created_at, file_id) VALUES ");
        var senderNewest = new Dictionary<(long, uint), long>();
        int n = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (plannedSeq[i] <= 0) continue;
            var e = batch[i];
            string type = e.File is null ? "'text'" : "'file'";
            string file = e.File is null ? "NULL" : e.File.FileId.ToString(Inv);
            sql.Append(Inv, $"{(n == 0 ? "" : ",")}({e.GroupId},{plannedSeq[i]},{e.MessageId},{e.SenderId},{type},@b{n},@c{n},{e.Timestamp},{file})");
            command.Parameters.AddWithValue($"@b{n}", e.Content);
            command.Parameters.AddWithValue($"@c{n}", e.ClientMsgId);
            senderNewest[(e.GroupId, e.SenderId)] = plannedSeq[i];
            n++;
        }
        sql.Append(';');
        // Files now carried by an entry are kept by the sweeper (sql/0010_files.sql, referenced_at): same transaction.
        var files = batch.Where((e, i) => plannedSeq[i] > 0 && e.File is not null).Select(e => e.File!.FileId).Distinct().ToArray();
        if (files.Length > 0) sql.Append(QkChat.Server.Files.FileRows.MarkReferencedSql(files, batch[0].Timestamp)).Append(';');

        sql.Append("UPDATE ");
        AppendKeyTable(sql, "group_id", "max_seq", [.. counters.Where(c => c.Value != startSeq[c.Key]).Select(c => (c.Key, c.Value))]);
        sql.Append(" STRAIGHT_JOIN chat_groups g ON g.group_id = k.group_id SET g.max_seq = k.max_seq;");

        sql.Append("UPDATE ");
        AppendKeyTable(sql, "group_id", "user_id", "read_seq", [.. senderNewest.Select(s => (s.Key.Item1, (long)s.Key.Item2, s.Value))]);
        sql.Append(" STRAIGHT_JOIN chat_group_members m ON m.group_id = k.group_id AND m.user_id = k.user_id SET m.read_seq = GREATEST(m.read_seq, k.read_seq);");
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(ct);
    }

    private static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;

    /// <summary>
    /// The derived table <c>k</c> of integer rows, named by its first row and the rest a table value constructor:
    /// <c>(SELECT 1 AS a, 2 AS b UNION ALL VALUES (3,4),(5,6)) k</c>. Not a UNION ALL of one-row SELECTs: MariaDB 10.11
    /// prepares and optimizes each SELECT of a union, so 500 of them cost 12-31 ms before a row is read, the constructor
    /// 2-8 ms (a mariadb-client check, 500 keys against a 100,000-row table, load average 80: bench/RESULTS.md "(b)
    /// profile"). Still driven first (STRAIGHT_JOIN at the caller): one primary key lookup per row (EXPLAIN: eq_ref).
    /// </summary>
    private static void AppendKeyTable(StringBuilder sql, string a, string b, (long A, long B)[] rows)
    {
        sql.Append(Inv, $"(SELECT {rows[0].A} AS {a}, {rows[0].B} AS {b}");
        for (int i = 1; i < rows.Length; i++) sql.Append(Inv, $"{(i == 1 ? " UNION ALL VALUES " : ",")}({rows[i].A},{rows[i].B})");
        sql.Append(") k");
    }

    private static void AppendKeyTable(StringBuilder sql, string a, string b, string c, (long A, long B, long C)[] rows)
    {
        sql.Append(Inv, $"(SELECT {rows[0].A} AS {a}, {rows[0].B} AS {b}, {rows[0].C} AS {c}");
        for (int i = 1; i < rows.Length; i++) sql.Append(Inv, $"{(i == 1 ? " UNION ALL VALUES " : ",")}({rows[i].A},{rows[i].B},{rows[i].C})");
        sql.Append(") k");
    }

    private static KeyRow ReadKeyRow(MySqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetUInt32(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetInt64(5));

    /// <summary>An entry's identifying columns as the lookup before the insert sees them.</summary>
    private sealed record KeyRow(long GroupId, long Seq, long MessageId, uint SenderId, string? ClientMsgId, long CreatedAt);

    /// <summary>Stored entries that hold a batch's message ids or (group, sender, client_msg_id) keys.</summary>
    private sealed class StoredKeys
    {
        public HashSet<long> MessageIds { get; } = [];
        public Dictionary<(long, uint, string), KeyRow> ByKey { get; } = [];
    }
}
