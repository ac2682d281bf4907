using System.Net;

namespace QkChat.LoadGen.Options;

/// <summary>Everything a run is told on the command line (docs/loadgen.md lists each option with its default).</summary>
public sealed class LoadGenOptions
{
    /// <summary>Open files one process may hold here (hard limit 20,000, shared/platform-notes.md), less room for the
    /// runtime's own descriptors and a margin: the default worker split keeps each process at or below this.</summary>
    public const int ConnectionsPerWorker = 15_000;

    public string Scenario { get; set; } = "";
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 8080;

    /// <summary>--nodes: the nodes of one deployment to spread the connections over (<see cref="NodeEndpoints.NodeOf"/>);
    /// empty = the one server at --host:--port.</summary>
    public IReadOnlyList<NodeEndpoint> Nodes { get; set; } = [];

    /// <summary>--cross-node (chat, mixed): the two users of every pair on different nodes, so every message crosses
    /// between nodes through Redis; off = both on one node, pairs spread round-robin.</summary>
    public bool CrossNode { get; set; }
    public int Connections { get; set; } = 100;
    public double DurationSeconds { get; set; } = 10;
    public double RampUpSeconds { get; set; } = 2;

    /// <summary>Requests in flight per connection: heartbeats in the heartbeat loop, send_message requests in chat
    /// (1 = strict request/response).</summary>
    public int Pipeline { get; set; } = 1;

    /// <summary>chat: send_message requests per second per user; 0 = as fast as --pipeline allows. 1/s is a lively
    /// human conversation, so N users at the default offer N messages per second in all.</summary>
    public double Rate { get; set; } = 1;

    /// <summary>chat: content length (ASCII, so bytes = characters). 100: a typical short chat line.</summary>
    public int MessageBytes { get; set; } = 100;

    /// <summary>Processes to spread the connections over; null = ceil(connections / 15,000).</summary>
    public int? Workers { get; set; }

    /// <summary>Source addresses (127.0.0.x) to bind, spread over workers then connections; empty = the system's choice.</summary>
    public IReadOnlyList<IPAddress> SourceAddresses { get; set; } = [];

    public string? JsonPath { get; set; }

    /// <summary>Directory for the SVG charts; null = beside --json (none without either).</summary>
    public string? SvgDir { get; set; }
    public bool Quiet { get; set; }

    /// <summary>--levels: run the scenario once per connection count and print them side by side; empty = one run
    /// at --connections.</summary>
    public IReadOnlyList<int> Levels { get; set; } = [];

    /// <summary>--rate-levels: run the scenario once per --rate and print them side by side (chat, mixed, group); empty =
    /// one run at --rate. Exclusive with --levels.</summary>
    public IReadOnlyList<double> RateLevels { get; set; } = [];

    /// <summary>group: members per group; connections are split into --connections / this groups (the last may be
    /// smaller). 10: a family or team chat, the issue 18 "many small groups" shape.</summary>
    public int GroupSize { get; set; } = 10;

    /// <summary>chat, mixed, group: a pair or group that is ready during the ramp starts sending only when the ramp ends.
    /// Off by default (traffic builds up as users arrive, as in the original project's runs). On for unpaced runs with
    /// many logins: qkchatd hashes passwords at nice 19 (docs/accounts.md), so early senders saturating a 2-core box
    /// left most logins unanswered at the ramp's end (bench/RESULTS.md, session 10's group and cluster runs).</summary>
    public bool SendAfterRamp { get; set; }

    /// <summary>group: the first this many members of each group send at --rate; null = every member.</summary>
    public int? SendersPerGroup { get; set; }

    /// <summary>group: seconds after the grace for sends still in flight, pushes still coming and the end-of-run
    /// sync_group_messages, before what a member misses counts as lost. 30: the (b) run of bench/RESULTS.md had a server
    /// ~10 s behind (send p99 9.5 s, the request timeout 10 s); three times that, and a run that drains ends at once.</summary>
    public double DrainSeconds { get; set; } = 30;

    /// <summary>Gate: the run's headline p99 (docs/loadgen.md "Pass/fail gates") must not exceed this, in ms.</summary>
    public double? MaxP99Ms { get; set; }

    /// <summary>Gate: the success rate (percent) must be at least this. When given, error answers, timeouts and
    /// failed connections are judged by this rate instead of failing the run outright.</summary>
    public double? MinSuccessPercent { get; set; }

    /// <summary>mixed: the blend of actions each user draws from (weights).</summary>
    public MixWeights Mix { get; set; } = MixWeights.Default;

    /// <summary>Connect scenario: seconds between heartbeats of an idle connection; 0 = never. 30 s is the interval
    /// protocol.md §4 asks of clients.</summary>
    public double HeartbeatIntervalSeconds { get; set; } = 30;

    /// <summary>chat, mixed, group, upload: a connection that has written nothing for this many seconds sends a
    /// heartbeat (Run/Keepalive.cs); 0 = never. 20 s: a third of qkchatd's default server.idle_timeout_s (60 s,
    /// QKCHAT_IDLE_TIMEOUT_S), so a heartbeat found up to a quarter interval late (25 s) and answered slowly still
    /// lands long before the server's deadline; below the 30 s protocol.md §4 asks of clients, because a waiting
    /// load-test connection must never be the one the server closes. Lower it with the server's idle timeout.</summary>
    public double KeepaliveSeconds { get; set; } = 20;

    /// <summary>Server process to sample (RSS, CPU) from /proc; only meaningful on the same machine.</summary>
    public int? ServerPid { get; set; }

    /// <summary>A heartbeat slower than this counts as an error. 10 s: a hundred times a saturated loopback
    /// server's p99, so only a stalled server or connection trips it.</summary>
    public double RequestTimeoutSeconds { get; set; } = 10;

    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Connects in flight at once per process. 256 stays well under qkchatd's default listen backlog
    /// (server.backlog = 1024, docs/configuration.md) so a ramp cannot overflow the accept queue on its own.</summary>
    public int ConnectConcurrency { get; set; } = 256;

    public bool Tls { get; set; }

    /// <summary>--transport ws: connect through the web listener's WebSocket gateway (protocol.md §11) instead of the chat port.</summary>
    public bool WebSocket { get; set; }
    public string? TlsHost { get; set; }
    public bool TlsInsecure { get; set; }

    /// <summary>login-storm and chat: accounts are Prefix + 6-digit index, as `qkchatd provision-users` creates them.</summary>
    /// <summary>upload: bytes of each client's file. 8 MiB: one chunk of qkchatd's default files.chunk_bytes; the
    /// issue 21 benchmark asks 100 MiB (bench/loopback.sh files).</summary>
    public long FileBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>upload: download every file back and compare its sha256.</summary>
    public bool VerifyDownload { get; set; }

    public string Prefix { get; set; } = "lg";
    public string Password { get; set; } = "";

    /// <summary>login-storm: connected clients heartbeating every 200 ms during the storm. 100: the issue asks for
    /// the p99 of "already connected clients"; 100 give a p99 from 500 samples a second at negligible load.</summary>
    public int Observers { get; set; } = 100;

    /// <summary>login-storm: retry a SERVER_BUSY answer after retry_after_ms (or 200 ms), as a real client would.</summary>
    public bool RetryBusy { get; set; } = true;

    /// <summary>True when --duration was given; login-storm otherwise uses <see cref="StormDefaultDurationSeconds"/>.</summary>
    public bool DurationGiven { get; set; }

    /// <summary>login-storm's hard limit for both phases: 5,000 logins at ~58 hashes/s per core (docs/passwords.md)
    /// take ~43 s on 2 cores; 180 s leaves room for slower machines and still ends by itself.</summary>
    public const double StormDefaultDurationSeconds = 180;

    /// <summary>Set (hidden) when this process is a worker started by the coordinator.</summary>
    public int? WorkerIndex { get; set; }
    public int WorkerCount { get; set; } = 1;

    /// <summary>The arguments as given, so the coordinator can pass them on to its workers unchanged.</summary>
    public IReadOnlyList<string> RawArguments { get; set; } = [];

    /// <summary>chat and mixed pair users 2k and 2k+1 (accounts from provision-users --friends pairs).</summary>
    public bool IsPairScenario => Scenario is "chat" or "mixed";

    /// <summary>group: users are in groups of --group-size, groups never span workers (accounts from provision-users
    /// --friends groups:SIZE).</summary>
    public bool IsGroupScenario => Scenario == "group";

    /// <summary>Scenarios that check every message's delivery: their connections keep a deep push inbox.</summary>
    public bool TracksDelivery => IsPairScenario || IsGroupScenario;

    /// <summary>Scenarios whose connections log in and may then sit silent (waiting for the ramp's end, receiving
    /// only, or uploading over HTTP): the keepalive runs for them (--keepalive). Not connect (it measures idle
    /// connections and has --heartbeat-interval), heartbeat (never silent) or login-storm (its connections wait
    /// before logging in, where the login timeout applies, not the idle one).</summary>
    public bool KeepsAlive => (IsPairScenario || IsGroupScenario || Scenario == QkChat.LoadGen.Scenarios.UploadScenario.Name) && KeepaliveSeconds > 0;

    /// <summary>group: the number of groups --connections makes.</summary>
    public int GroupCount => (Connections + GroupSize - 1) / GroupSize;

    /// <summary>A copy at another --rate: one level of a --rate-levels sweep.</summary>
    public LoadGenOptions AtRate(double rate)
    {
        var copy = (LoadGenOptions)MemberwiseClone();
        copy.Rate = rate;
        copy.RateLevels = [];
        var raw = new List<string>();
        for (int i = 0; i < RawArguments.Count; i++)
        {
            string a = RawArguments[i];
            if (a is "--rate" or "--rate-levels") { i++; continue; }
            if (a.StartsWith("--rate=", StringComparison.Ordinal) || a.StartsWith("--rate-levels=", StringComparison.Ordinal)) continue;
            raw.Add(a);
        }
        raw.Add("--rate");
        raw.Add(rate.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        copy.RawArguments = raw;
        return copy;
    }

    /// <summary>A copy at another connection count: one level of a --levels sweep.</summary>
    public LoadGenOptions AtLevel(int connections)
    {
        var copy = (LoadGenOptions)MemberwiseClone();
        copy.Connections = connections;
        copy.Levels = [];
        var raw = new List<string>();
        // Workers re-parse the raw arguments: replace the connection count, drop the sweep.
        for (int i = 0; i < RawArguments.Count; i++)
        {
            string a = RawArguments[i];
            if (a is "--connections" or "--levels") { i++; continue; }
            if (a.StartsWith("--connections=", StringComparison.Ordinal) || a.StartsWith("--levels=", StringComparison.Ordinal)) continue;
            raw.Add(a);
        }
        raw.Add("--connections");
        raw.Add(connections.ToString(System.Globalization.CultureInfo.InvariantCulture));
        copy.RawArguments = raw;
        return copy;
    }

    /// <summary>Where the run connects: the --nodes, or --host:--port.</summary>
    public IReadOnlyList<NodeEndpoint> Targets => Nodes.Count > 0 ? Nodes : [new NodeEndpoint(Host, Port)];

    /// <summary>The node run-wide connection <paramref name="connection"/> connects to.</summary>
    public NodeEndpoint EndpointFor(int connection) => Nodes.Count == 0 ? new NodeEndpoint(Host, Port)
        : Nodes[NodeEndpoints.NodeOf(connection, Nodes.Count, pairsTogether: IsPairScenario && !CrossNode)];

    public int EffectiveWorkers => Workers ?? Math.Max(1, (Connections + ConnectionsPerWorker - 1) / ConnectionsPerWorker);
}
