using Microsoft.Extensions.Logging;

namespace QkChat.Server.Admin;

/// <summary>
/// Alert thresholds checked on every status sample. Crossing one logs a warning once per episode (not once a
/// second), and the dashboard lists what is active; falling back below logs the end of the episode.
/// </summary>
public sealed partial class AlertMonitor
{
    /// <summary>
    /// Requests a one-second window needs before the error-rate and response-time rules judge it. Below 50, p99 is
    /// little more than the single slowest request and one failure is 2 % or more: such a window neither starts nor
    /// ends an episode (an idle server keeps the verdict of its last busy second).
    /// </summary>
    public const int MinRequestsPerWindow = 50;

    private readonly List<Rule> _rules = [];
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    public AlertMonitor(AlertThresholds thresholds, int maxClients, ILogger logger)
    {
        _logger = logger;
        _rules.Add(new Rule("cpu", "CPU use", s => s.CpuPercent, () => thresholds.CpuPercent, "%"));
        _rules.Add(new Rule("memory", "memory use", s => s.MemoryPercent, () => thresholds.MemoryPercent, "%"));
        _rules.Add(new Rule("connections", "connections of server.max_clients", s => s.Connections * 100.0 / Math.Max(1, maxClients),
            () => thresholds.ConnectionsPercent, "%"));
        _rules.Add(new Rule("error_rate", "responses failed by the server (INTERNAL, UNAVAILABLE, SERVER_BUSY)",
            s => s.Requests.ErrorPercent, () => thresholds.ErrorRatePercent, "%", Busy));
        _rules.Add(new Rule("response_time", "p99 response time", s => s.Requests.P99Ms, () => thresholds.ResponseTimeMs, " ms", Busy));
    }

    private static bool Busy(StatusSample s) => s.Requests.Requests >= MinRequestsPerWindow;

    /// <summary>
    /// One threshold; it reads its limit at every check, so a configuration reload moves it. A sample for which
    /// <paramref name="judges"/> is false (too few requests) leaves the rule as it was.
    /// </summary>
    public sealed class Rule(string key, string what, Func<StatusSample, double> value, Func<double> threshold, string unit,
        Func<StatusSample, bool>? judges = null)
    {
        public Func<StatusSample, bool> Judges { get; } = judges ?? (static _ => true);
        public string Key { get; } = key;
        public string What { get; } = what;
        public Func<StatusSample, double> Value { get; } = value;
        public double Threshold => threshold();
        public string Unit { get; } = unit;
        public bool Active { get; set; }
        public double Last { get; set; }
        public long Since { get; set; }
    }

    public void Check(StatusSample sample)
    {
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if (!rule.Judges(sample)) continue;
                double value = rule.Value(sample);
                rule.Last = value;
                bool over = value > rule.Threshold;
                if (over && !rule.Active)
                {
                    rule.Active = true;
                    rule.Since = sample.At;
                    LogAlert(_logger, rule.What, value, rule.Unit, rule.Threshold);
                }
                else if (!over && rule.Active)
                {
                    rule.Active = false;
                    LogCleared(_logger, rule.What, value, rule.Unit, rule.Threshold);
                }
            }
        }
    }

    /// <summary>The alerts active now: (key, description, value, threshold, unit, since).</summary>
    public List<(string Key, string What, double Value, double Threshold, string Unit, long Since)> Active()
    {
        lock (_gate) return _rules.Where(r => r.Active).Select(r => (r.Key, r.What, r.Last, r.Threshold, r.Unit, r.Since)).ToList();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "alert: {What} at {Value:0.#}{Unit}, above the threshold of {Threshold}{Unit}")]
    private static partial void LogAlert(ILogger logger, string what, double value, string unit, double threshold);

    [LoggerMessage(Level = LogLevel.Information, Message = "alert over: {What} back to {Value:0.#}{Unit} (threshold {Threshold}{Unit})")]
    private static partial void LogCleared(ILogger logger, string what, double value, string unit, double threshold);
}

/// <summary>
/// The alert limits (percent, and ms for the response time); a configuration reload writes them (issue 11), the
/// monitor reads them each second. The defaults here are the server's: the option registry binds alert.* to these
/// properties. The error-rate and response-time defaults are the original server's.
/// </summary>
public sealed class AlertThresholds
{
    private int _cpu = 85, _memory = 90, _connections = 90, _errorRate = 5, _responseTime = 200;

    public AlertThresholds()
    {
    }

    public AlertThresholds(int cpuPercent, int memoryPercent, int connectionsPercent)
    {
        _cpu = cpuPercent;
        _memory = memoryPercent;
        _connections = connectionsPercent;
    }

    public AlertThresholds(int cpuPercent, int memoryPercent, int connectionsPercent, int errorRatePercent, int responseTimeMs)
    {
        _cpu = cpuPercent;
        _memory = memoryPercent;
        _connections = connectionsPercent;
        _errorRate = errorRatePercent;
        _responseTime = responseTimeMs;
    }

    public int CpuPercent { get => Volatile.Read(ref _cpu); set => Volatile.Write(ref _cpu, value); }
    public int MemoryPercent { get => Volatile.Read(ref _memory); set => Volatile.Write(ref _memory, value); }
    public int ConnectionsPercent { get => Volatile.Read(ref _connections); set => Volatile.Write(ref _connections, value); }
    public int ErrorRatePercent { get => Volatile.Read(ref _errorRate); set => Volatile.Write(ref _errorRate, value); }
    public int ResponseTimeMs { get => Volatile.Read(ref _responseTime); set => Volatile.Write(ref _responseTime, value); }

    /// <summary>The monitor's own copy: a reload changes it, not the configuration it came from.</summary>
    public AlertThresholds Copy() => new(CpuPercent, MemoryPercent, ConnectionsPercent, ErrorRatePercent, ResponseTimeMs);
}
