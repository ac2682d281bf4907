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
    public int Connections { get; set; } = 100;
    public double DurationSeconds { get; set; } = 10;
    public double RampUpSeconds { get; set; } = 2;

    /// <summary>Requests in flight per connection in the heartbeat loop (1 = strict request/response).</summary>
    public int Pipeline { get; set; } = 1;

    /// <summary>Processes to spread the connections over; null = ceil(connections / 15,000).</summary>
    public int? Workers { get; set; }

    /// <summary>Source addresses (127.0.0.x) to bind, spread over workers then connections; empty = the system's choice.</summary>
    public IReadOnlyList<IPAddress> SourceAddresses { get; set; } = [];

    public string? JsonPath { get; set; }
    public bool Quiet { get; set; }

    /// <summary>Connect scenario: seconds between heartbeats of an idle connection; 0 = never. 30 s is the interval
    /// protocol.md §4 asks of clients.</summary>
    public double HeartbeatIntervalSeconds { get; set; } = 30;

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
    public string? TlsHost { get; set; }
    public bool TlsInsecure { get; set; }

    /// <summary>Set (hidden) when this process is a worker started by the coordinator.</summary>
    public int? WorkerIndex { get; set; }
    public int WorkerCount { get; set; } = 1;

    /// <summary>The arguments as given, so the coordinator can pass them on to its workers unchanged.</summary>
    public IReadOnlyList<string> RawArguments { get; set; } = [];

    public int EffectiveWorkers => Workers ?? Math.Max(1, (Connections + ConnectionsPerWorker - 1) / ConnectionsPerWorker);
}
