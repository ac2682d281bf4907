using System.Globalization;
using QkChat.LoadGen.Options;

namespace QkChat.LoadGen.Fuzz;

/// <summary>
/// `qkchat-loadgen fuzz`: hostile frames of every class over every action against a running server (docs/loadgen.md).
/// Exit codes: 0 no finding, 1 a finding (printed with its seed, case and frame), 2 bad usage.
/// </summary>
public static class FuzzCommand
{
    public const string Usage = """
        usage: qkchat-loadgen fuzz [--frames N] [--seed S] [--host ADDR] [--port N] [--connections C]
                                   [--prefix P --password PW] [--server-pid PID] [--max-frame-bytes B]
          --frames N        frames to send in all (default 10000); the run's only bound
          --seed S          generator seed (default 1); connection i uses S + 7919 i
          --connections C   fuzzing connections (default 4)
          --prefix P        log connection i in as P000000+i (qkchatd provision-users), so authenticated actions are reached
          --password PW     those accounts' password
          --server-pid PID  report the server's RSS before and after
          --max-frame-bytes B  the server's server.max_frame_bytes (default 65536)
        """;

    public static FuzzOptions Parse(IReadOnlyList<string> args)
    {
        var o = new FuzzOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (name is "--help" or "-h") throw new UsageException("help");
            if (i + 1 >= args.Count) throw new UsageException($"{name} needs a value");
            string v = args[++i];
            switch (name)
            {
                case "--frames": o.Frames = Number(name, v, 1, long.MaxValue); break;
                case "--seed": o.Seed = (int)Number(name, v, int.MinValue, int.MaxValue); break;
                case "--host": o.Host = v; break;
                case "--port": o.Port = (int)Number(name, v, 1, 65_535); break;
                case "--connections": o.Connections = (int)Number(name, v, 1, 1_000); break;
                case "--prefix": o.Prefix = v; break;
                case "--password": o.Password = v; break;
                case "--server-pid": o.ServerPid = (int)Number(name, v, 1, int.MaxValue); break;
                case "--max-frame-bytes": o.MaxFrameBytes = (int)Number(name, v, 4_096, 16 << 20); break;
                default: throw new UsageException("unknown option " + name);
            }
        }
        if (o.Prefix is not null && o.Password is null) throw new UsageException("--prefix needs --password");
        return o;
    }

    private static long Number(string name, string value, long min, long max) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n >= min && n <= max
            ? n
            : throw new UsageException($"{name} takes a whole number from {min} to {max}, not '{value}'");

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        FuzzOptions options;
        try
        {
            options = Parse(args);
        }
        catch (UsageException e)
        {
            if (e.Message != "help") stderr.WriteLine("qkchat-loadgen fuzz: " + e.Message);
            (e.Message == "help" ? stdout : stderr).Write(Usage);
            return e.Message == "help" ? 0 : 2;
        }
        stdout.WriteLine($"fuzz: {options.Frames} frames, seed {options.Seed}, {options.Connections} connections to {options.Host}:{options.Port}" +
            (options.Prefix is null ? ", anonymous" : $", logged in as {options.Prefix}000000.."));
        var report = await new FuzzRunner(options, stdout).RunAsync(ct);
        Print(report, options, stdout);
        return report.Findings.IsEmpty ? 0 : 1;
    }

    public static void Print(FuzzReport r, FuzzOptions o, TextWriter w)
    {
        var c = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(c, $"frames {r.Frames} in {r.Cases} cases, {r.Elapsed.TotalSeconds:0.0} s, {r.Frames / Math.Max(0.001, r.Elapsed.TotalSeconds):0} frames/s, {r.Reconnects} connects"));
        w.WriteLine("answers by code: " + string.Join(", ", r.AnswersByCode.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
        w.WriteLine(string.Create(c, $"observer heartbeats {r.HeartbeatMs.Count}: p50 {r.Percentile(50):0.0} ms, p99 {r.Percentile(99):0.0} ms, max {r.Percentile(100):0.0} ms"));
        if (r.RssBeforeKiB is { } before) w.WriteLine(string.Create(c, $"server RSS before {before / 1024.0:0.0} MiB, after {(r.RssAfterKiB ?? 0) / 1024.0:0.0} MiB"));
        w.WriteLine(r.Findings.IsEmpty ? $"no finding (seed {o.Seed})" : $"{r.Findings.Count} finding(s), seed {o.Seed}:");
        foreach (string f in r.Findings) w.WriteLine("  " + f);
    }
}
