using System.Globalization;
using System.Text;
using QkChat.LoadGen.Scenarios;
using QkChat.Protocol;

namespace QkChat.LoadGen.Results;

/// <summary>
/// The summary in the shape of the original project's JMeter table: one column per concurrency level, rows
/// requests, login response, send response and success rate (then a few rows the original did not have: message
/// rates, delivery, correctness, the generator's own cost, the verdict). A single run is a table of one column.
/// </summary>
public static class LevelTable
{
    public const string Missing = "-";

    public static string Markdown(IReadOnlyList<RunResult> levels)
    {
        var s = new StringBuilder();
        if (levels.Count == 0) return "";
        RunResult first = levels[0];
        s.AppendLine(Inv($"## qkchat-loadgen {first.Scenario} by concurrency level against {first.Target}"));
        s.AppendLine();
        s.AppendLine(Inv($"ramp {first.RampUpS:0.##} s, measured {first.DurationS:0.##} s{Pace(first)}; latencies p50 / p99 / mean"));
        s.AppendLine();
        s.Append("| concurrent users |");
        foreach (RunResult r in levels) s.Append(Inv($" {r.Connections:N0} |"));
        s.AppendLine();
        s.Append("|---|");
        foreach (RunResult _ in levels) s.Append("---:|");
        s.AppendLine();

        Row(s, "requests", levels, r => r.Success is { } ok ? Inv($"{ok.Requests:N0}") : Missing);
        Row(s, "login response", levels, r => Latency(LoginLatency(r)));
        Row(s, "send response", levels, r => Latency(r.Actions?.GetValueOrDefault(Actions.SendMessage)?.LatencyUs
            ?? r.Actions?.GetValueOrDefault(Actions.SendGroupMessage)?.LatencyUs));
        Row(s, "success rate", levels, r => r.Success is { } ok ? Percent(ok.Percent) : Missing);
        if (levels.Any(r => r.Chat is not null))
        {
            Row(s, "messages/s sent / delivered", levels, r => r.Chat is { } c ? Inv($"{c.SentPerS:N0} / {c.DeliveredPerS:N0}") : Missing);
            Row(s, "delivery latency", levels, r => Latency(r.Chat?.DeliveryLatencyUs));
            Row(s, "lost / duplicates / out of order", levels, r => r.Chat is { } c ? Inv($"{c.Lost:N0} / {c.Duplicates:N0} / {c.OutOfOrder:N0}") : Missing);
        }
        else if (levels.Any(r => r.Group is not null))
        {
            Row(s, "groups x members, senders each", levels, r => r.Group is { } g ? Inv($"{g.Groups:N0} x {g.GroupSize:N0}, {g.SendersPerGroup:N0}") : Missing);
            Row(s, "rate per sender", levels, r => r.Group is { } g ? (g.RatePerSender > 0 ? Inv($"{g.RatePerSender:0.###}/s") : "unpaced") : Missing);
            Row(s, "entries sent/s / deliveries/s", levels, r => r.Group is { } g ? Inv($"{g.SentPerS:N0} / {g.DeliveredPerS:N0}") : Missing);
            Row(s, "delivery to each member", levels, r => Latency(r.Group?.DeliveryLatencyUs));
            Row(s, "delivery to the last member", levels, r => Latency(r.Group?.LastMemberLatencyUs));
            Row(s, "lost / duplicates / out of order", levels, r => r.Group is { } g ? Inv($"{g.Lost:N0} / {g.Duplicates:N0} / {g.OutOfOrder:N0}") : Missing);
            Row(s, "late (read by sync at the end)", levels, r => r.Group is { } g ? Inv($"{g.Late:N0}") : Missing);
        }
        else if (levels.Any(r => r.Scenario == HeartbeatScenario.Name))
        {
            Row(s, "round trips/s", levels, r => Inv($"{r.RoundTripsPerS:N0}"));
            Row(s, "round trip", levels, r => Latency(r.LatencyUs));
        }
        Row(s, "generator CPU per message", levels, r => r.Generator?.PerMessageUs is { } us ? Inv($"{us:N1} µs") : Missing);
        Row(s, "generator CPU per request", levels, r => r.Generator?.PerRequestUs is { } us ? Inv($"{us:N1} µs") : Missing);
        if (levels.Any(r => r.Server?.CpuPercent is not null))
            Row(s, "server CPU", levels, r => r.Server?.CpuPercent is { } cpu ? Inv($"{cpu:N0} % of a core") : Missing);
        Row(s, "verdict", levels, r => r.Passed ? "passed" : Inv($"failed (exit {r.ExitCode})"));
        return s.ToString();
    }

    /// <summary>Password logins: the storm's phase, else the chat/mixed users' logins (whole run, busy retries included).</summary>
    private static LatencySummary? LoginLatency(RunResult r) =>
        r.Storm?.Logins.LatencyUs ?? r.Actions?.GetValueOrDefault(Actions.Login)?.LatencyUs;

    private static string Pace(RunResult r) => r.Chat switch
    {
        { RatePerUser: > 0 } c => Inv($", {c.RatePerUser:0.###} {(r.Scenario == "mixed" ? "actions" : "messages")}/s per user"),
        not null => ", unpaced",
        _ => "",
    } + (r.Mix is { } mix ? ", blend " + mix : "");

    public static string Latency(LatencySummary? l) =>
        l is { Count: > 0 } ? $"{Report.Ms(l.P50)} / {Report.Ms(l.P99)} / {Report.Ms((long)l.Mean)}" : Missing;

    public static string Percent(double p) => p >= 99.995 && p < 100 ? Inv($"{p:0.000} %") : Inv($"{p:0.##} %");

    private static void Row(StringBuilder s, string name, IReadOnlyList<RunResult> levels, Func<RunResult, string> cell)
    {
        s.Append("| ").Append(name).Append(" |");
        foreach (RunResult r in levels) s.Append(' ').Append(cell(r)).Append(" |");
        s.AppendLine();
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
