using System.Globalization;
using System.Text;
using QkChat.LoadGen.Scenarios;

namespace QkChat.LoadGen.Options;

/// <summary>Thrown for a bad command line; the message is shown with the usage text.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A small parser: "SCENARIO --name value", "--name=value" and bare flags. One table drives parsing and --help,
/// so an option cannot exist without its description.
/// </summary>
public static class OptionParser
{
    /// <summary>The largest group the scenario makes: qkchatd's default group.max_members (1,024, docs/configuration.md).</summary>
    public const int MaxGroupSize = 1024;

    private sealed record Spec(string Name, string Value, string Help, Action<LoadGenOptions, string> Apply, bool Hidden = false);

    public static readonly string[] Scenarios = [HeartbeatScenario.Name, "connect", "login-storm", "chat", "mixed", "group", UploadScenario.Name];

    private static readonly Spec[] Specs =
    [
        new("host", "ADDR", "server address (default 127.0.0.1)", (o, v) => o.Host = v),
        new("port", "N", "server port (default 8080)", (o, v) => o.Port = Int(v, 1, 65_535)),
        new("nodes", "H:P,H:P,..", "several nodes of one deployment instead of --host/--port: connections round-robin over them (chat, mixed: pairs)", (o, v) => o.Nodes = NodeEndpoints.Parse(v)),
        new("cross-node", "", "chat, mixed: the two users of every pair on different --nodes (every message crosses nodes)", (o, _) => o.CrossNode = true),
        new("connections", "N", "connections to open (default 100)", (o, v) => o.Connections = Int(v, 1, 10_000_000)),
        new("duration", "S", "measured seconds, after the ramp (default 10)", (o, v) => { o.DurationSeconds = Seconds(v, 0.1); o.DurationGiven = true; }),
        new("ramp-up", "S", "seconds over which connections are opened (default 2)", (o, v) => o.RampUpSeconds = Seconds(v, 0)),
        new("pipeline", "K", "heartbeat, chat, mixed: requests in flight per connection (default 1)", (o, v) => o.Pipeline = Int(v, 1, 1024)),
        new("rate", "R", "chat: messages, mixed: actions per second per user, group: per sender; 0 = as fast as the pipeline allows (default 1)", (o, v) => o.Rate = Rate(v)),
        new("rate-levels", "R,R,..", "chat, mixed, group: run once per --rate (e.g. 5,10,20) and print them side by side", (o, v) => o.RateLevels = RateLevels(v)),
        new("group-size", "N", "group: members per group, 2-1024 (default 10); groups = connections / N", (o, v) => o.GroupSize = Int(v, 2, MaxGroupSize)),
        new("drain-seconds", "S", "group: after the send window and its 5 s grace, up to S seconds for late answers, pushes and the end-of-run sync before a missing entry counts as lost (default 30)", (o, v) => o.DrainSeconds = Seconds(v, 0)),
        new("send-after-ramp", "", "chat, mixed, group: senders wait for the ramp's end, so that early traffic does not starve the logins still under way", (o, _) => o.SendAfterRamp = true),
        new("senders-per-group", "K", "group: the first K members of each group send (default: all)", (o, v) => o.SendersPerGroup = Int(v, 1, MaxGroupSize)),
        new("mix", "BLEND", $"mixed: action weights, names left out weigh 0 (default {MixWeights.Default})", (o, v) => o.Mix = MixWeights.Parse(v)),
        new("message-bytes", "B", $"chat, mixed: message content length, {ChatContent.MinBytes}-{ChatContent.MaxBytes} (default 100)", (o, v) => o.MessageBytes = Int(v, ChatContent.MinBytes, ChatContent.MaxBytes)),
        new("file-bytes", "B", "upload: bytes of each client's file, 1 to 2^31-1; K and M suffixes are KiB and MiB (default 8M)", (o, v) => o.FileBytes = Bytes(v)),
        new("verify-download", "", "upload: download every file back and compare its sha256", (o, _) => o.VerifyDownload = true),
        new("workers", "W", "processes (default ceil(connections / 15000))", (o, v) => o.Workers = Int(v, 1, 256)),
        new("source-addresses", "LIST", "source IPs to bind: 127.0.0.2-127.0.0.9 or a,b,c", (o, v) => o.SourceAddresses = SourceAddresses.Parse(v)),
        new("heartbeat-interval", "S", "connect: seconds between heartbeats per connection, 0 = never (default 30)", (o, v) => o.HeartbeatIntervalSeconds = Seconds(v, 0)),
        new("keepalive", "S", "chat, mixed, group, upload: a heartbeat on every connection silent for S seconds, 0 = never (default 20: a third of qkchatd's 60 s server.idle_timeout_s)", (o, v) => o.KeepaliveSeconds = Seconds(v, 0)),
        new("prefix", "P", "login-storm, chat: accounts P000000.. from qkchatd provision-users (default lg)", (o, v) => o.Prefix = v),
        new("password", "PW", "login-storm, chat: the accounts' password (required)", (o, v) => o.Password = v),
        new("observers", "M", "login-storm: connected clients heartbeating every 200 ms (default 100)", (o, v) => o.Observers = Int(v, 0, 10_000)),
        new("retry-busy", "on|off", "login-storm: retry SERVER_BUSY after retry_after_ms (default on)", (o, v) => o.RetryBusy = OnOff(v)),
        new("server-pid", "PID", "sample this process's RSS and CPU from /proc", (o, v) => o.ServerPid = Int(v, 1, int.MaxValue)),
        new("request-timeout", "S", "a request slower than this is an error (default 10)", (o, v) => o.RequestTimeoutSeconds = Seconds(v, 0.001)),
        new("connect-timeout", "S", "TCP connect plus TLS handshake bound (default 10)", (o, v) => o.ConnectTimeoutSeconds = Seconds(v, 0.001)),
        new("connect-concurrency", "N", "connects in flight at once per process (default 256)", (o, v) => o.ConnectConcurrency = Int(v, 1, 100_000)),
        new("tls", "", "connect with TLS", (o, _) => o.Tls = true),
        new("transport", "tcp|ws", "tcp: the chat port (default); ws: the web listener's WebSocket gateway at ws://HOST:PORT/ws (wss:// with --tls; --port is then the http.port, 8081)",
            (o, v) => o.WebSocket = v switch { "tcp" => false, "ws" => true, _ => throw new UsageException("--transport takes tcp or ws") }),
        new("tls-host", "NAME", "name to check the server certificate against (default: --host)", (o, v) => o.TlsHost = v),
        new("tls-insecure", "", "accept any server certificate (self-signed test servers)", (o, _) => o.TlsInsecure = true),
        new("levels", "N,N,..", "run once per connection count (e.g. 2000,5000,10000) and print them side by side", (o, v) => o.Levels = Levels(v)),
        new("max-p99-ms", "X", "gate: fail (exit 3) when the headline p99 is above X ms", (o, v) => o.MaxP99Ms = Positive(v)),
        new("min-success", "P", "gate: fail (exit 4) when under P % of requests succeed; errors then fail only through it", (o, v) => o.MinSuccessPercent = Percent(v)),
        new("json", "FILE", "also write the result as JSON to FILE (with --levels: FILE-N.json per level)", (o, v) => o.JsonPath = v),
        new("svg", "DIR", "write latency-over-time and percentile charts (SVG) into DIR (default: beside --json)", (o, v) => o.SvgDir = v),
        new("quiet", "", "no live progress line", (o, _) => o.Quiet = true),
        new("worker-index", "I", "", (o, v) => o.WorkerIndex = Int(v, 0, 255), Hidden: true),
        new("worker-count", "W", "", (o, v) => o.WorkerCount = Int(v, 1, 256), Hidden: true),
    ];

    /// <summary>
    /// The command line as Program takes it: the options to run with (null), or the exit code to end with at once:
    /// 0 after --help (usage on <paramref name="stdout"/>), 2 for a bad command line (the reason, then the usage, on
    /// <paramref name="stderr"/>).
    /// </summary>
    public static int? ParseForMain(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, out LoadGenOptions? options)
    {
        try
        {
            options = Parse(args);
        }
        catch (UsageException e)
        {
            options = null;
            stderr.WriteLine("qkchat-loadgen: " + e.Message);
            stderr.Write(Usage());
            return 2;
        }
        if (options is not null) return null;
        stdout.Write(Usage());
        return 0;
    }

    /// <summary>Parses <paramref name="args"/>; returns null when --help was asked for.</summary>
    public static LoadGenOptions? Parse(IReadOnlyList<string> args)
    {
        var options = new LoadGenOptions { RawArguments = [.. args] };
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help") return null;
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (options.Scenario.Length > 0) throw new UsageException($"unexpected argument '{arg}'");
                if (!Scenarios.Contains(arg)) throw new UsageException($"unknown scenario '{arg}'");
                options.Scenario = arg;
                continue;
            }
            int eq = arg.IndexOf('=');
            string name = eq < 0 ? arg[2..] : arg[2..eq];
            Spec spec = Array.Find(Specs, s => s.Name == name) ?? throw new UsageException($"unknown option '--{name}'");
            string value;
            if (spec.Value.Length == 0)
            {
                if (eq >= 0) throw new UsageException($"--{name} takes no value");
                value = "";
            }
            else if (eq >= 0) value = arg[(eq + 1)..];
            else if (i + 1 < args.Count) value = args[++i];
            else throw new UsageException($"--{name} needs a value ({spec.Value})");
            try
            {
                spec.Apply(options, value);
            }
            catch (FormatException e)
            {
                throw new UsageException($"--{name}: {e.Message}");
            }
        }
        if (options.Scenario.Length == 0) throw new UsageException("no scenario given");
        if (options.Nodes.Count > 0 && args.Any(a => a is "--host" or "--port" || a.StartsWith("--host=", StringComparison.Ordinal) || a.StartsWith("--port=", StringComparison.Ordinal)))
            throw new UsageException("--nodes replaces --host and --port: give one or the other");
        if (options.CrossNode && !options.IsPairScenario) throw new UsageException("--cross-node is for chat and mixed (the pairs are split)");
        if (options.CrossNode && options.Nodes.Count < 2) throw new UsageException("--cross-node needs --nodes with at least two nodes");
        if (options.Scenario == "login-storm")
        {
            if (options.Password.Length == 0) throw new UsageException("login-storm needs --password (of the provisioned accounts)");
            if (!options.DurationGiven) options.DurationSeconds = LoadGenOptions.StormDefaultDurationSeconds;
        }
        if (options.IsPairScenario && options.Password.Length == 0)
            throw new UsageException($"{options.Scenario} needs --password (of the accounts from provision-users --friends pairs)");
        if (options.IsGroupScenario && options.Password.Length == 0)
            throw new UsageException("group needs --password (of the accounts from provision-users --friends groups:SIZE)");
        if (options.Scenario == UploadScenario.Name)
        {
            if (options.Password.Length == 0) throw new UsageException("upload needs --password (of the accounts from provision-users)");
            if (options.EffectiveWorkers > 1) throw new UsageException("upload runs in one process: --workers 1 (a few clients move the bytes)");
        }
        if ((options.Levels.Count > 0 || options.RateLevels.Count > 0) && options.WorkerIndex is not null)
            throw new UsageException("--levels and --rate-levels are for the coordinator only");
        if (options.Levels.Count > 0 && options.RateLevels.Count > 0) throw new UsageException("--levels and --rate-levels cannot be combined");
        if (options.RateLevels.Count > 0 && !options.TracksDelivery) throw new UsageException("--rate-levels is for chat, mixed and group");
        if (options.IsGroupScenario && options.SendersPerGroup > options.GroupSize)
            throw new UsageException($"--senders-per-group {options.SendersPerGroup} is more than --group-size {options.GroupSize}");
        foreach (int connections in options.Levels.Count > 0 ? options.Levels : [options.Connections])
        {
            LoadGenOptions level = options.Levels.Count > 0 ? options.AtLevel(connections) : options;
            if (options.IsPairScenario)
            {
                if (connections < 2 || connections % 2 != 0)
                    throw new UsageException($"{options.Scenario} needs an even --connections of at least 2 (users 2k and 2k+1 chat), not {connections}");
                if (level.EffectiveWorkers > connections / 2) throw new UsageException($"{options.Scenario}: more workers than pairs (a pair stays in one worker)");
            }
            if (options.IsGroupScenario)
            {
                if (connections < 2) throw new UsageException($"group needs --connections of at least 2 (a group of two), not {connections}");
                if (connections % options.GroupSize is 1) throw new UsageException($"group: --connections {connections} leaves a last group of one member (--group-size {options.GroupSize})");
                if (level.EffectiveWorkers > level.GroupCount) throw new UsageException("group: more workers than groups (a group stays in one worker)");
            }
            if (level.EffectiveWorkers > connections) throw new UsageException("more workers than connections");
        }
        if (options.WorkerIndex >= options.WorkerCount) throw new UsageException("--worker-index must be below --worker-count");
        return options;
    }

    public static string Usage()
    {
        var text = new StringBuilder();
        text.AppendLine("usage: qkchat-loadgen SCENARIO [options]");
        text.AppendLine();
        text.AppendLine("scenarios:");
        text.AppendLine("  heartbeat   N connections, each a closed loop of heartbeat requests; round trips/s and latency");
        text.AppendLine("  connect     N idle connections held for the duration; opened/failed/dropped, server RSS per connection");
        text.AppendLine("  login-storm N password logins at once, then N token resumes at once; logins/s, resumes/s, latency,");
        text.AppendLine("              heartbeat p99 of --observers connected clients (accounts: qkchatd provision-users)");
        text.AppendLine("  chat        N/2 pairs of friends send each other messages at --rate per user with --pipeline in flight,");
        text.AppendLine("              receivers ack; sent/s, delivered/s, send and delivery latency, losses and duplicates");
        text.AppendLine("              (accounts: qkchatd provision-users --friends pairs)");
        text.AppendLine("  mixed       the chat pairs doing a blend of actions (--mix) at --rate per user: sends, mark_read, history pages,");
        text.AppendLine("              chat list, presence changes, heartbeats; every message acked; latency and errors per action");
        text.AppendLine("  group       groups of --group-size friends (the first creates the group); --senders-per-group members of");
        text.AppendLine("              each send at --rate; every member checks each entry arrives once in seq order; deliveries/s,");
        text.AppendLine("              send latency, delivery latency to each member and to the last (accounts: --friends groups:SIZE)");
        text.AppendLine("  upload      N clients each upload one file of --file-bytes over the public HTTP listener (tus chunks with");
        text.AppendLine("              sha256, resumed after a cut), optionally download it back (--verify-download); MB/s each way,");
        text.AppendLine("              chunk latency p50/p99, errors (accounts: qkchatd provision-users)");
        text.AppendLine();
        text.AppendLine("options:");
        foreach (Spec spec in Specs)
        {
            if (spec.Hidden) continue;
            string left = spec.Value.Length == 0 ? "--" + spec.Name : $"--{spec.Name} {spec.Value}";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {left,-28}{spec.Help}");
        }
        text.AppendLine();
        text.AppendLine("exit code: 0 passed; 1 the run failed its checks (over 1% of connections failed, any error response, or");
        text.AppendLine("           chat/mixed/group: a message lost, delivered twice or out of order); 2 bad usage; 3 --max-p99-ms exceeded;");
        text.AppendLine("           4 success rate below --min-success (several failed: the lowest code)");
        return text.ToString();
    }

    /// <summary>A byte count: digits, optionally followed by K (KiB) or M (MiB).</summary>
    private static long Bytes(string v)
    {
        long unit = v.EndsWith('K') || v.EndsWith('k') ? 1024 : v.EndsWith('M') || v.EndsWith('m') ? 1024 * 1024 : 1;
        string digits = unit == 1 ? v : v[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < 1 || n * unit > int.MaxValue)
            throw new UsageException($"'{v}' is not a byte count from 1 to {int.MaxValue} (K and M suffixes allowed)");
        return n * unit;
    }

    private static int Int(string v, int min, int max)
    {
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            throw new FormatException($"'{v}' is not a whole number");
        if (n < min || n > max) throw new FormatException($"{n} is outside {min}..{max}");
        return n;
    }

    private static bool OnOff(string v) => v switch
    {
        "on" or "true" or "1" => true,
        "off" or "false" or "0" => false,
        _ => throw new FormatException($"'{v}' is not on or off"),
    };

    /// <summary>Messages per second per user: 0 (unpaced) up to 100,000 (one every 10 µs, past any real pace).</summary>
    private static double Rate(string v)
    {
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || double.IsNaN(r) || r < 0 || r > 100_000)
            throw new FormatException($"'{v}' is not a rate from 0 to 100000 messages per second");
        return r;
    }

    /// <summary>"2000,5000,10000": ascending order is not required, each level runs as given.</summary>
    private static int[] Levels(string v)
    {
        string[] parts = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Length > 20) throw new FormatException($"'{v}' is not a list of 1-20 connection counts");
        return Array.ConvertAll(parts, p => Int(p, 1, 10_000_000));
    }

    /// <summary>"5,10,20": one run per rate, each as given.</summary>
    private static double[] RateLevels(string v)
    {
        string[] parts = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Length > 20) throw new FormatException($"'{v}' is not a list of 1-20 rates");
        return Array.ConvertAll(parts, Rate);
    }

    private static double Positive(string v)
    {
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || !(x > 0) || x > 3_600_000)
            throw new FormatException($"'{v}' is not a positive number of milliseconds");
        return x;
    }

    private static double Percent(string v)
    {
        if (!double.TryParse(v.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out double p) || !(p >= 0) || p > 100)
            throw new FormatException($"'{v}' is not a percentage from 0 to 100");
        return p;
    }

    private static double Seconds(string v, double min)
    {
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || double.IsNaN(s) || s < min || s > 86_400)
            throw new FormatException($"'{v}' is not a number of seconds >= {min}");
        return s;
    }
}
