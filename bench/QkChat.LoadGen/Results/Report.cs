using System.Globalization;
using System.Text;
using QkChat.LoadGen.Scenarios;

namespace QkChat.LoadGen.Results;

/// <summary>The human summary: a Markdown table, pasteable into bench/RESULTS.md.</summary>
public static class Report
{
    public static string Markdown(RunResult r)
    {
        var s = new StringBuilder();
        s.AppendLine(Inv($"## qkchat-loadgen {r.Scenario} against {r.Target}"));
        s.AppendLine();
        string workers = r.Workers == 1 ? "1 worker" : Inv($"{r.Workers} workers");
        string pipeline = r.Scenario == HeartbeatScenario.Name ? Inv($"pipeline {r.Pipeline}, ") : "";
        if (r.Chat is { } c0)
            pipeline = Inv($"{c0.Pairs:N0} pairs, rate {(c0.RatePerUser > 0 ? Inv($"{c0.RatePerUser:0.###}/s per user") : "unpaced")}, pipeline {r.Pipeline}, {c0.MessageBytes} B messages, ");
        if (r.Group is { } g0)
            pipeline = Inv($"{g0.Groups:N0} groups of {g0.GroupSize:N0}, {g0.SendersPerGroup:N0} senders each at {(g0.RatePerSender > 0 ? Inv($"{g0.RatePerSender:0.###}/s") : "unpaced")}, pipeline {r.Pipeline}, {g0.MessageBytes} B messages, ");
        if (r.Mix is { } mix) pipeline += "blend " + mix + ", ";
        s.AppendLine(Inv($"{r.Connections:N0} connections, ramp {r.RampUpS:0.##} s, measured {r.DurationS:0.##} s, {pipeline}{workers}; started {DateTimeOffset.FromUnixTimeMilliseconds(r.StartUnixMs):u}"));
        s.AppendLine();
        s.AppendLine("| metric | value |");
        s.AppendLine("|---|---|");
        Row(s, "connections opened / failed / dropped", Inv($"{r.Opened:N0} / {r.Failed:N0} / {r.Dropped:N0}"));
        if (r.ConnectFailures.Count > 0) Row(s, "connect failures", Counts(r.ConnectFailures));
        if (r.Drops.Count > 0) Row(s, "drops", Counts(r.Drops));
        if (r.Chat is { } chat) Chat(s, chat);
        else if (r.Group is { } group) Group(s, group);
        else if (r.Upload is { } upload) Upload(s, upload, r.LatencyUs);
        else if (r.Scenario == HeartbeatScenario.Name || r.RoundTrips > 0)
        {
            Row(s, "round trips/s", Inv($"{r.RoundTripsPerS:N0}"));
            Row(s, "round trips (measured window)", Inv($"{r.RoundTrips:N0}"));
            if (r.LatencyUs is { } l)
            {
                Row(s, "latency p50 / p90", $"{Ms(l.P50)} / {Ms(l.P90)}");
                Row(s, "latency p99 / p99.9", $"{Ms(l.P99)} / {Ms(l.P999)}");
                Row(s, "latency max / mean", $"{Ms(l.Max)} / {Ms((long)l.Mean)}");
            }
        }
        if (r.Storm is { } storm)
        {
            Phase(s, "logins", storm.Logins);
            Phase(s, "resumes", storm.Resumes);
            if (storm.ObserverHeartbeatUs is { Count: > 0 } o)
                Row(s, Inv($"observer heartbeat p50 / p99 / max ({storm.Observers} observers, {o.Count:N0} round trips)"), $"{Ms(o.P50)} / {Ms(o.P99)} / {Ms(o.Max)}");
        }
        if (r.Scenario == "mixed" && r.LatencyUs is { } all)
            Row(s, "every blend request p50 / p90 / p99 / max", $"{Ms(all.P50)} / {Ms(all.P90)} / {Ms(all.P99)} / {Ms(all.Max)}");
        Row(s, "errors", r.Errors.Count == 0 ? "none" : Counts(r.Errors));
        if (r.Keepalive is { } k)
            Row(s, Inv($"keepalive heartbeats after {k.IntervalS:0.##} s silent: sent / answered / failed"), Inv($"{k.Sent:N0} / {k.Answered:N0} / {k.Failed:N0}"));
        if (r.Success is { } ok) Row(s, "success rate (ok / requests, connections included)", Inv($"{LevelTable.Percent(ok.Percent)} ({ok.Ok:N0} / {ok.Requests:N0})"));
        if (r.Generator is { } g)
        {
            string per = (g.PerMessageUs is { } m ? Inv($", {m:N1} µs per message") : "") + (g.PerRequestUs is { } q ? Inv($", {q:N1} µs per request") : "");
            Row(s, "load generator CPU (window)", Inv($"{g.CpuPercent:N0} % of a core over {g.Processes} process(es){per}"));
        }
        if (r.Client is { } c)
            Row(s, "loadgen memory per held connection", Inv($"{c.RssPerConnectionBytes:N0} B RSS, {c.ManagedPerConnectionBytes:N0} B managed ({c.Connections:N0} connections)"));
        if (r.Server is { } server)
        {
            foreach (ProcessSample p in server.Samples)
                Row(s, Inv($"server ({server.Pid}) at {p.Label}"), Inv($"RSS {p.RssBytes / 1024.0 / 1024:N1} MiB, CPU {p.CpuSeconds:N2} s, {p.OpenConnections:N0} connections"));
            if (server.RssPerConnectionBytes is { } perConnection)
                Row(s, "server RSS per connection", Inv($"{perConnection:N0} B"));
            if (server.CpuPercent is { } cpu)
                Row(s, "server CPU (open to end)", Inv($"{cpu:N0}% of a core"));
        }
        if (r.LostWorkers > 0) Row(s, "workers lost", Inv($"{r.LostWorkers}: ") + string.Join("; ", r.LostWorkerCauses));
        if (r.WorkerEndsAfterDeadlineS is { Count: > 0 } ends)
            Row(s, "workers' results after the deadline (s)", string.Join(" / ", ends.Select(e => Inv($"{e:0.00}"))));
        if (r.Gates is { } gates)
        {
            if (gates.MaxP99Ms is { } max)
                Row(s, Inv($"gate: {gates.HeadlineLatency} p99 <= {max:0.###} ms"), (gates.P99Passed ? "pass" : "FAIL") + (gates.P99Ms is { } p ? Inv($" ({p:0.###} ms)") : " (not measured)"));
            if (gates.MinSuccessPercent is { } min)
                Row(s, Inv($"gate: success rate >= {min:0.###} %"), (gates.SuccessPassed ? "pass" : "FAIL") + Inv($" ({LevelTable.Percent(r.Success?.Percent ?? 0)})"));
        }
        Row(s, "verdict", r.Verdict + (r.ExitCode != 0 ? Inv($" (exit {r.ExitCode})") : ""));
        if (r.Actions is { Count: > 0 } actions) ActionTable(s, actions);
        return s.ToString();
    }

    private static void Upload(StringBuilder s, UploadResult u, LatencySummary? chunks)
    {
        Row(s, "uploads completed / clients", Inv($"{u.Completed:N0} / {u.Clients:N0} ({u.LoginsOk:N0} logins, {u.FileBytes:N0} B each, chunks of {u.ChunkBytes:N0} B)"));
        Row(s, "upload throughput (first chunk sent to last answered)", Inv($"{u.UploadMegabytesPerS:N1} MB/s ({u.BytesUploaded:N0} B in {u.UploadSeconds:0.###} s)"));
        if (chunks is { Count: > 0 } l)
            Row(s, "chunk latency p50 / p99 / max", $"{Ms(l.P50)} / {Ms(l.P99)} / {Ms(l.Max)}");
        Row(s, "resumes after a cut", Inv($"{u.Resumes:N0}"));
        if (u.Verify)
        {
            Row(s, "download throughput (first GET to last byte)", Inv($"{u.DownloadMegabytesPerS:N1} MB/s ({u.BytesDownloaded:N0} B in {u.DownloadSeconds:0.###} s)"));
            Row(s, "downloads verified / sha256 mismatches", Inv($"{u.Verified:N0} / {u.Mismatched:N0}"));
        }
    }

    private static void Chat(StringBuilder s, ChatResult c)
    {
        Row(s, "pairs chatting / pairs", Inv($"{c.PairsChatting:N0} / {c.Pairs:N0} ({c.LoginsOk:N0} logins)"));
        Row(s, "messages sent/s (answered `sent`)", Inv($"{c.SentPerS:N0}"));
        Row(s, "messages delivered/s (pushed to the receiver)", Inv($"{c.DeliveredPerS:N0}"));
        Row(s, "messages acknowledged/s (message_ack ids)", Inv($"{c.AckedPerS:N0}"));
        Row(s, "sent ok / send requests (whole run)", Inv($"{c.SentOk:N0} / {c.Sent:N0}"));
        Row(s, "delivered / acknowledged / status `delivered` back (whole run)", Inv($"{c.Delivered:N0} / {c.AckedIds:N0} in {c.AcksOk:N0} acks / {c.StatusDelivered:N0}"));
        if (c.AcksAwaitedAtSettle > 0 || c.AcksUnansweredAtEnd > 0)
            Row(s, "acks unanswered after the settle / still at the end", Inv($"{c.AcksAwaitedAtSettle:N0} / {c.AcksUnansweredAtEnd:N0}"));
        if (c.SendLatencyUs is { Count: > 0 } l)
            Row(s, "send latency p50 / p90 / p99 / max", $"{Ms(l.P50)} / {Ms(l.P90)} / {Ms(l.P99)} / {Ms(l.Max)}");
        if (c.DeliveryLatencyUs is { Count: > 0 } d)
            Row(s, "delivery latency p50 / p90 / p99 / max", $"{Ms(d.P50)} / {Ms(d.P90)} / {Ms(d.P99)} / {Ms(d.Max)}");
        Row(s, "lost / duplicates", Inv($"{c.Lost:N0} / {c.Duplicates:N0}"));
        Row(s, "late (not pushed by the end, read by sync)", Inv($"{c.Late:N0}") + (c.CatchUpUnfinished > 0 ? Inv($" ({c.CatchUpUnfinished:N0} receivers' sync unfinished)") : ""));
        if (c.OfflinePushed > 0)
            Row(s, "in offline batches / of them duplicates", Inv($"{c.OfflinePushed:N0} / {c.OfflineDuplicates:N0}"));
        Row(s, "sends retried after SERVER_BUSY", Inv($"{c.BusyRetries:N0}"));
        Row(s, "out of order / unconfirmed / stale / inbox dropped", Inv($"{c.OutOfOrder:N0} / {c.Unconfirmed:N0} / {c.Stale:N0} / {c.InboxDropped:N0}"));
    }

    private static void Group(StringBuilder s, GroupResult g)
    {
        Row(s, "groups ready / groups", Inv($"{g.GroupsReady:N0} / {g.Groups:N0} ({g.LoginsOk:N0} logins, {g.SetupErrors:N0} setup errors)"));
        Row(s, "entries sent/s (answered `sent`)", Inv($"{g.SentPerS:N0}"));
        Row(s, "deliveries/s (entries pushed to a member, checked)", Inv($"{g.DeliveredPerS:N0}"));
        Row(s, "sent ok / send requests / timeline entries (whole run)", Inv($"{g.SentOk:N0} / {g.Sent:N0} / {g.Entries:N0}"));
        Row(s, "deliveries (whole run)", Inv($"{g.Delivered:N0}"));
        if (g.SendLatencyUs is { Count: > 0 } l)
            Row(s, "send latency p50 / p90 / p99 / max", $"{Ms(l.P50)} / {Ms(l.P90)} / {Ms(l.P99)} / {Ms(l.Max)}");
        if (g.DeliveryLatencyUs is { Count: > 0 } d)
            Row(s, "delivery to each member p50 / p90 / p99 / max", $"{Ms(d.P50)} / {Ms(d.P90)} / {Ms(d.P99)} / {Ms(d.Max)}");
        if (g.LastMemberLatencyUs is { Count: > 0 } last)
            Row(s, "delivery to the last member p50 / p90 / p99 / max", $"{Ms(last.P50)} / {Ms(last.P90)} / {Ms(last.P99)} / {Ms(last.Max)}");
        Row(s, "lost / duplicates / out of order", Inv($"{g.Lost:N0} / {g.Duplicates:N0} / {g.OutOfOrder:N0}"));
        Row(s, "unsynced (missing, the end-of-run sync did not finish)", Inv($"{g.Unsynced:N0}"));
        Row(s, "late (not pushed by the end, read by sync)", Inv($"{g.Late:N0}"));
        Row(s, "sends retried after SERVER_BUSY", Inv($"{g.BusyRetries:N0}"));
        Row(s, "unconfirmed / stale / inbox dropped / max_seq unread", Inv($"{g.Unconfirmed:N0} / {g.Stale:N0} / {g.InboxDropped:N0} / {g.MaxSeqUnread:N0}"));
    }

    /// <summary>Per action: the chat's login, send_message and message_ack, and mixed's blend.</summary>
    private static void ActionTable(StringBuilder s, Dictionary<string, ActionResult> actions)
    {
        s.AppendLine();
        s.AppendLine("| action | requests | ok | ok/s (window) | p50 | p90 | p99 | max | errors |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (name, a) in actions.OrderByDescending(p => p.Value.Requests))
        {
            LatencySummary? l = a.LatencyUs;
            string Cell(Func<LatencySummary, long> f) => l is null ? "-" : Ms(f(l));
            s.AppendLine(Inv($"| {name} | {a.Requests:N0} | {a.Ok:N0} | {a.PerS:N1} | {Cell(x => x.P50)} | {Cell(x => x.P90)} | {Cell(x => x.P99)} | {Cell(x => x.Max)} | {(a.Errors.Count == 0 ? "none" : Counts(a.Errors))} |"));
        }
    }

    private static void Phase(StringBuilder s, string name, StormPhase p)
    {
        Row(s, Inv($"{name} ok / attempted"), Inv($"{p.Succeeded:N0} / {p.Attempted:N0}"));
        Row(s, Inv($"{name}/s"), Inv($"{p.PerSecond:N1}"));
        if (p.LatencyUs is { Count: > 0 } l)
            Row(s, Inv($"{name} latency p50 / p90 / p99 / max"), $"{Ms(l.P50)} / {Ms(l.P90)} / {Ms(l.P99)} / {Ms(l.Max)}");
        Row(s, Inv($"{name} errors"), p.Errors.Count == 0 ? "none" : Counts(p.Errors));
        if (p.BusyAnswers > 0) Row(s, Inv($"{name} SERVER_BUSY answers retried"), Inv($"{p.BusyAnswers:N0}"));
    }

    private static void Row(StringBuilder s, string metric, string value) => s.AppendLine($"| {metric} | {value} |");

    private static string Counts(Dictionary<string, long> counts) =>
        string.Join(", ", counts.OrderByDescending(p => p.Value).Select(p => Inv($"{p.Key} {p.Value:N0}")));

    public static string Ms(long micros) => Inv($"{micros / 1000.0:0.###} ms");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
